#pragma once
// Active health checks of a Deployment's origins (`health_check`): a GET of
// the check path on every address of each such origin, every interval_ms
// (the first at once). A 2xx passes; any other status, a connection error or
// no response head within min(interval_ms, timeout_ms) fails.
// `unhealthy_threshold` failures in a row mark the address down and
// `healthy_threshold` passes in a row mark it up again (OriginHealth says
// what that does to the circuit breaker). While the circuit is open,
// `healthy_threshold` passes that came after it opened close it without
// waiting for the cooldown.
//
// One per process per Deployment: owned by the DeploymentInstance that
// claimed it (Deployment::claimHealthChecks), running on that worker's loop
// thread; results go to the Deployment's OriginHealth, which every worker
// reads. Checks use connections of their own (a pool per address without an
// OriginHealth, so the breaker neither refuses nor counts them and they are
// not in the upstream metrics). Destroying the checker aborts checks in flight.

#include <uv.h>

#include <functional>
#include <memory>
#include <vector>

namespace isogate {

class Deployment;

class HealthChecker {
 public:
  // Starts at once. `stale` is asked before every check; once it says true
  // (a newer deployment is serving) the checker stops for good. `deployment`
  // must outlive the checker. Construct on the loop's thread, or before that
  // thread starts.
  HealthChecker(uv_loop_t* loop, const Deployment& deployment, std::function<bool()> stale);
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Whether `deployment` has any origin with a health_check.
  static bool wanted(const Deployment& deployment);

 private:
  class Target;  // one address of one origin
  std::function<bool()> stale_;
  std::vector<std::unique_ptr<Target>> targets_;
};

}  // namespace isogate
