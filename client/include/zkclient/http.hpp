#pragma once
// One HTTP exchange through libcurl that sends exactly the method, target
// and body the request binding covers: the request-target is set verbatim
// (no normalisation, no re-encoding), the body is sent as is with a
// Content-Length, redirects are not followed, and no "Expect: 100-continue"
// is added. Throws ClientError(network) when no answer arrives.

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zkclient {

// An absolute http(s) URL split into its origin and its origin-form target.
struct Url {
    std::string origin;  // scheme://authority
    std::string target;  // path and query exactly as written ("/" when empty); no fragment
};

// Throws ClientError(usage) for anything but http:// or https:// URLs with
// an authority and no whitespace or control characters.
Url url_parse(std::string_view text);

struct HttpRequest {
    std::string method = "GET";
    Url url;
    bool has_body = false;
    std::string body;
    std::vector<std::string> headers;  // "Name: value"
    long timeout_seconds = 300;
    // Called once when the whole request (headers and body) has been
    // handed to the connection, before any response byte is read.
    std::function<void()> on_sent;
};

struct HttpResponse {
    long status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  // in order, final response only
    std::string body;

    // The values of a header (case-insensitive name).
    std::vector<std::string> header_values(std::string_view name) const;
};

// Receives a response as it arrives instead of collecting its body: first
// the final status and headers (body empty), then every piece of the body,
// then on_end once the whole answer is in. An exception thrown by any of
// them aborts the exchange and leaves http_send.
struct HttpStream {
    std::function<void(const HttpResponse& head)> on_head;
    std::function<void(std::string_view piece)> on_body;
    std::function<void()> on_end;
};

HttpResponse http_send(const HttpRequest& request);
// The same exchange, streamed: the returned response has an empty body
// and `stream` has seen all of it. on_head is called exactly once when the
// exchange returns normally.
HttpResponse http_send(const HttpRequest& request, const HttpStream& stream);

// GET of a whole http(s) URL, or the contents of a local file for anything
// else (a path, or file://...). Throws ClientError(network) or (tree) on a
// file that cannot be read.
std::string fetch_document(const std::string& location, long* http_status);

}  // namespace zkclient
