// GET /api/deployments/{id}/logs/download?format=text|ndjson&since=&until= (query.h): the whole
// stored log (or the lineNo range asked) as one file, `Content-Disposition: attachment`, sent
// with chunked framing piece by piece (ServerResponse::setProducer): each piece is one storage
// read of at most 256 KiB of text, made on a worker once the client has taken the previous one,
// so memory stays one piece however large the log and a slow reader holds no thread. Lines
// stored while the download runs are included until it reaches the end of the log.
//
// Errors before the first byte are JSON as everywhere (400 for a bad parameter, 404 for an
// unknown deployment); a storage failure later cuts the connection (the chunked body then lacks
// its last chunk, so the client knows the file is incomplete).
//
// Thread-safety: as the other handlers; `api` must outlive the server's running state.
#pragma once

#include "zc/exporters/http_server.h"
#include "zc/host/collector_api.h"

namespace zc::exporters {

Handler downloadLogsHandler(host::CollectorApi& api);

}  // namespace zc::exporters
