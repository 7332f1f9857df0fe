// The session API the pages log in with (zc/exporters/access.h, "Tokens"):
//   POST   /api/session  body {"token":"<token>"}: 200 {"tokens":true,"loggedIn":true,
//          "token":"<name>","scope":"read"|"operate","expiresAt":"<RFC 3339>"} with
//          Set-Cookie: zc_session=...; HttpOnly; SameSite=Strict; Path=/ (+ Secure over TLS).
//          400 bad_request for a body that is not such an object, 401 for a wrong token (counts
//          toward the 429 slow-down), 404 when tokens are off.
//   GET    /api/session  200 {"tokens":bool,"loggedIn":bool,"token":name|null,"scope":...|null}
//          from whatever credential the request carries (cookie or Bearer).
//   DELETE /api/session  logout: ends the cookie's session; 200 {"tokens":..,"loggedIn":false,..}
//          with a Set-Cookie that clears the cookie.
// POST and DELETE pass the Origin check like every mutating request.
//
// Thread-safety: the handlers run concurrently on the workers; AccessControl is thread-safe.
#pragma once

#include "zc/exporters/access.h"
#include "zc/exporters/http_server.h"

namespace zc::exporters {

// `access` null: tokens are off (GET answers so, POST is 404, DELETE just clears the cookie).
// OWNERSHIP: `access` must outlive the server's running state.
Handler sessionStateHandler(const AccessControl* access);
Handler loginHandler(const AccessControl* access);
Handler logoutHandler(const AccessControl* access);

}  // namespace zc::exporters
