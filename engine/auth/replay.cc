// The replay guard of accepted tokens' jti, and the Authenticator that applies it.
#include "auth/auth.h"

namespace nflux::auth {

void ReplayGuard::ForgetExpired(int64_t now) {
  while (!by_expiry_.empty() && by_expiry_.begin()->first < now) {
    seen_.erase(by_expiry_.begin()->second);
    by_expiry_.erase(by_expiry_.begin());
  }
}

Status ReplayGuard::Admit(const Claims& claims, int64_t forget_after, int64_t now) {
  std::string key = claims.iss + '\n' + claims.jti;
  std::lock_guard<std::mutex> lock(mutex_);
  ForgetExpired(now);
  if (seen_.count(key)) {
    std::string jti = claims.jti.size() > 80 ? claims.jti.substr(0, 80) + "..." : claims.jti;
    return Status::Unauthenticated("token already used (jti '" + jti + "'); send a new token for each call");
  }
  if (seen_.size() >= capacity_)
    return Status::Unauthenticated("too many unexpired tokens to track; try again when some have expired");
  seen_.emplace(key, forget_after);
  by_expiry_.emplace(forget_after, std::move(key));
  return Status::Ok();
}

size_t ReplayGuard::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return seen_.size();
}

Result<Claims> Authenticator::Verify(std::string_view authorization_header, int64_t now,
                                     std::string_view endpoint_path) const {
  Result<Claims> claims = VerifyBearer(authorization_header, config_, now, endpoint_path);
  if (!claims.ok() || !config_.reject_replayed_jti) return claims;
  // Until exp + leeway the token could still pass VerifyBearer, so it is remembered that long.
  if (Status fresh = replay_.Admit(*claims, claims->exp + config_.leeway_seconds, now); !fresh.ok()) return fresh;
  return claims;
}

}  // namespace nflux::auth
