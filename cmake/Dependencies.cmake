# Third-party dependencies. All come from Debian packages installed by
# tools/bootstrap.sh; V8 and llhttp are taken from the .debs it extracts into
# .deps/root, never from /usr/include/node (which may hold another V8).

set(ISOGATE_DEPS_ROOT "${CMAKE_SOURCE_DIR}/.deps/root" CACHE PATH "extracted libnode/llhttp packages")
set(_multiarch "x86_64-linux-gnu")

find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv)
pkg_check_modules(NGHTTP2 REQUIRED IMPORTED_TARGET libnghttp2)
find_package(OpenSSL 3 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Threads REQUIRED)
find_package(ICU REQUIRED COMPONENTS uc)
find_library(LMDB_LIBRARY lmdb REQUIRED)
find_path(LMDB_INCLUDE_DIR lmdb.h REQUIRED)

# V8 10.2 as exported by libnode.so.108.
set(_v8_include "${ISOGATE_DEPS_ROOT}/usr/include/nodejs/deps/v8/include")
set(_libnode "${ISOGATE_DEPS_ROOT}/usr/lib/${_multiarch}/libnode.so.108")
if(NOT EXISTS "${_v8_include}/v8-version.h" OR NOT EXISTS "${_libnode}")
  message(FATAL_ERROR "V8 from libnode108 not found under ${ISOGATE_DEPS_ROOT}; run tools/bootstrap.sh")
endif()
add_library(v8 SHARED IMPORTED GLOBAL)
set_target_properties(v8 PROPERTIES
  IMPORTED_LOCATION "${_libnode}"
  IMPORTED_NO_SONAME FALSE
  INTERFACE_INCLUDE_DIRECTORIES "${_v8_include}"
  # libnode108 is built without pointer compression or the sandbox.
  INTERFACE_COMPILE_DEFINITIONS "V8_DEPRECATION_WARNINGS=0")
# Binaries find libnode.so.108 in .deps without LD_LIBRARY_PATH.
set(CMAKE_BUILD_RPATH "${ISOGATE_DEPS_ROOT}/usr/lib/${_multiarch}")
set(CMAKE_INSTALL_RPATH "${ISOGATE_DEPS_ROOT}/usr/lib/${_multiarch}")

# llhttp 8.1 C sources from node-llhttp, built as a static library.
set(_llhttp_src "${ISOGATE_DEPS_ROOT}/usr/share/llhttp")
add_library(llhttp STATIC "${_llhttp_src}/api.c" "${_llhttp_src}/http.c" "${_llhttp_src}/llhttp.c")
target_include_directories(llhttp SYSTEM PUBLIC "${ISOGATE_DEPS_ROOT}/usr/share/include/llhttp")
set_target_properties(llhttp PROPERTIES POSITION_INDEPENDENT_CODE ON C_STANDARD 99)
target_compile_options(llhttp PRIVATE -w)
