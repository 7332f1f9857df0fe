// Reading an SSE stream's lines from storage: the backfill that runs after the stream
// subscribed to the bus (from the client's position until a short page says storage has no
// more; a position past the last stored line gets a reset event instead), and the gap read when a live line is ahead of the last one sent (lines that expired in
// between are simply skipped). A deployment storage no longer knows ends the stream
// (endQueued); any other storage failure is logged and the caller closes the stream.
//
// Thread-safety: called on the hub thread; `api` is thread-safe by contract.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sse_stream.h"
#include "zc/host/collector_api.h"

namespace zc::exporters {

// A storage read of the backfill or a gap brings at most its `chunk` lines and, beyond this many
// bytes of text, no further line: a stream of megabyte lines holds one read's worth at a time.
inline constexpr size_t kBackfillReadBytes = 256 * 1024;

// Formats the next page of at most `chunk` lines (and kBackfillReadBytes) after stream.lastSent;
// a page short of both ends the catch-up. When stream.lastSent is past the last stored line, formats a reset event to that
// line instead (lastSent becomes it) and ends the catch-up. False on a storage failure (the stream is to be closed).
bool backfillPage(host::CollectorApi& api, SseStream& stream, size_t chunk);

// Formats the stored lines between stream.lastSent and `upTo` (exclusive), `chunk` at a time;
// afterwards lastSent >= upTo - 1. False on a storage failure (the stream is to be closed).
bool fillGap(host::CollectorApi& api, SseStream& stream, uint64_t upTo, size_t chunk);

}  // namespace zc::exporters
