#pragma once
// What `zkcredit proxy` changes in a streamed OpenAI chat request, and
// takes back out of its answer (docs/client.md §6.2): the gateway's meter
// charges a stream by its usage chunk, and charges C_max for a stream
// without one. So the proxy asks for the chunk (stream_options.include_usage)
// when the application did not, and removes that chunk from the answer,
// which the application never asked for.

#include <string>
#include <string_view>

namespace zkclient {

// For a JSON object body with "stream": true whose
// stream_options.include_usage is not true: sets it (the body is written
// again, compact, members in their order). Returns whether the body changed;
// anything else (not JSON, no stream, stream_options not an object) is left
// as it is.
bool request_stream_usage(std::string& body);

// Removes the usage chunk from an OpenAI SSE stream fed in pieces of any
// size: an event whose data is a JSON object with an empty "choices" array
// and a "usage" object. Every other event passes unchanged, once its blank
// line has arrived.
class UsageChunkFilter {
public:
    std::string feed(std::string_view piece);
    // What is held at the end of the stream (an unfinished event).
    std::string finish();

private:
    // What the last CR ended, for the LF that may follow it.
    enum class CrEnded { nothing, line, passed_event, dropped_event };

    std::string event_;  // the complete lines of the current event
    std::string line_;   // the current line
    CrEnded after_cr_ = CrEnded::nothing;
};

}  // namespace zkclient
