#include "zkclient/http.hpp"

#include <strings.h>

#include <exception>
#include <fstream>
#include <memory>
#include <sstream>

#include <curl/curl.h>

#include "zkclient/error.hpp"

namespace zkclient {

namespace {

[[noreturn]] void network_error(const std::string& what) {
    throw ClientError(ExitCode::network, what);
}

bool has_control_or_space(std::string_view text) {
    for (unsigned char c : text) {
        if (c <= 0x20 || c == 0x7f) return true;
    }
    return false;
}

std::string trim(std::string_view text) {
    size_t begin = 0, end = text.size();
    while (begin < end && (text[begin] == ' ' || text[begin] == '\t')) ++begin;
    while (end > begin && (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == '\r' ||
                           text[end - 1] == '\n')) {
        --end;
    }
    return std::string(text.substr(begin, end - begin));
}

struct CurlGlobal {
    CurlGlobal() {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) network_error("libcurl init failed");
    }
};

void ensure_curl() { static CurlGlobal global; }

struct Exchange {
    const HttpRequest* request = nullptr;
    const HttpStream* stream = nullptr;  // nullptr: collect the body
    CURL* curl = nullptr;
    HttpResponse response;
    bool headers_out = false;
    size_t body_out = 0;
    bool sent_reported = false;
    bool head_reported = false;
    // What a callback threw: libcurl is C, so it waits here until
    // curl_easy_perform has returned.
    std::exception_ptr failure;

    // The final header block is complete: hand it over once.
    void report_head() {
        if (head_reported || stream == nullptr) return;
        head_reported = true;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
        if (stream->on_head) stream->on_head(response);
    }

    void maybe_report_sent() {
        if (sent_reported || !headers_out) return;
        if (request->has_body && body_out < request->body.size()) return;
        sent_reported = true;
        if (request->on_sent) request->on_sent();
    }
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* ex = static_cast<Exchange*>(user);
    const size_t n = size * count;
    const std::string_view line(data, n);
    if (line.rfind("HTTP/", 0) == 0) {
        // A new status line (after a 1xx interim answer): keep only the final headers.
        ex->response.headers.clear();
        return n;
    }
    if (line == "\r\n" || line == "\n") {
        long status = 0;
        curl_easy_getinfo(ex->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200) {
            try {
                ex->report_head();
            } catch (...) {
                ex->failure = std::current_exception();
                return 0;
            }
        }
        return n;
    }
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
        ex->response.headers.emplace_back(trim(line.substr(0, colon)),
                                          trim(line.substr(colon + 1)));
    }
    return n;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto* ex = static_cast<Exchange*>(user);
    if (ex->stream == nullptr) {
        ex->response.body.append(data, size * count);
        return size * count;
    }
    try {
        ex->report_head();
        if (ex->stream->on_body) ex->stream->on_body(std::string_view(data, size * count));
    } catch (...) {
        ex->failure = std::current_exception();
        return 0;
    }
    return size * count;
}

int on_debug(CURL*, curl_infotype type, char*, size_t size, void* user) {
    auto* ex = static_cast<Exchange*>(user);
    if (type == CURLINFO_HEADER_OUT) {
        ex->headers_out = true;
        ex->maybe_report_sent();
    } else if (type == CURLINFO_DATA_OUT) {
        ex->body_out += size;
        ex->maybe_report_sent();
    }
    return 0;
}

struct CurlDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistGuard {
    curl_slist* list = nullptr;
    ~SlistGuard() { curl_slist_free_all(list); }
};

}  // namespace

Url url_parse(std::string_view text) {
    const auto bad = [&](const char* why) -> Url {
        throw ClientError(ExitCode::usage, "bad URL \"" + std::string(text) + "\": " + why);
    };
    if (has_control_or_space(text)) return bad("white space or control characters");
    size_t scheme_end;
    if (text.rfind("http://", 0) == 0) {
        scheme_end = 7;
    } else if (text.rfind("https://", 0) == 0) {
        scheme_end = 8;
    } else {
        return bad("only http:// and https:// are supported");
    }
    const size_t authority_end = text.find_first_of("/?#", scheme_end);
    const std::string_view authority = text.substr(
        scheme_end, authority_end == std::string_view::npos ? std::string_view::npos
                                                            : authority_end - scheme_end);
    if (authority.empty()) return bad("no host");
    if (authority.find('@') != std::string_view::npos) return bad("credentials in the URL");
    Url url;
    url.origin = std::string(text.substr(0, scheme_end + authority.size()));
    std::string_view rest =
        authority_end == std::string_view::npos ? std::string_view() : text.substr(authority_end);
    const size_t fragment = rest.find('#');
    if (fragment != std::string_view::npos) rest = rest.substr(0, fragment);
    if (rest.empty() || rest[0] == '?') {
        url.target = "/" + std::string(rest);
    } else {
        url.target = std::string(rest);
    }
    return url;
}

std::vector<std::string> HttpResponse::header_values(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [key, value] : headers) {
        if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) {
            out.push_back(value);
        }
    }
    return out;
}

namespace {

HttpResponse exchange(const HttpRequest& request, const HttpStream* stream) {
    ensure_curl();
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) network_error("libcurl: cannot create a handle");
    CURL* c = curl.get();
    Exchange ex;
    ex.request = &request;
    ex.stream = stream;
    ex.curl = c;

    // libcurl connects to the origin; the request line carries the target
    // verbatim, since x binds it byte for byte.
    const std::string origin_url = request.url.origin + "/";
    curl_easy_setopt(c, CURLOPT_URL, origin_url.c_str());
    curl_easy_setopt(c, CURLOPT_REQUEST_TARGET, request.url.target.c_str());
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, request.timeout_seconds);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    // Only HTTP/1.1: the target above is a request-line feature.
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);

    if (request.has_body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size()));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    } else if (request.method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        if (request.method != "GET") {
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
        }
    }

    SlistGuard header_list;
    auto add = [&](const std::string& header) {
        curl_slist* next = curl_slist_append(header_list.list, header.c_str());
        if (next == nullptr) network_error("libcurl: out of memory");
        header_list.list = next;
    };
    add("Expect:");  // never wait for 100-continue
    for (const std::string& h : request.headers) add(h);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.list);

    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &ex);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &ex);
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, &ex);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);  // needed for the debug callback; it prints nothing

    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    const CURLcode rc = curl_easy_perform(c);
    if (ex.failure) std::rethrow_exception(ex.failure);
    if (rc != CURLE_OK) {
        network_error(std::string(request.method) + " " + request.url.origin + request.url.target +
                      ": " + (error[0] ? error : curl_easy_strerror(rc)));
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ex.response.status);
    ex.report_head();  // an answer without a body
    if (stream != nullptr && stream->on_end) stream->on_end();
    return std::move(ex.response);
}

}  // namespace

HttpResponse http_send(const HttpRequest& request) { return exchange(request, nullptr); }

HttpResponse http_send(const HttpRequest& request, const HttpStream& stream) {
    return exchange(request, &stream);
}

std::string fetch_document(const std::string& location, long* http_status) {
    if (location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0) {
        HttpRequest request;
        request.url = url_parse(location);
        HttpResponse response = http_send(request);
        if (http_status != nullptr) *http_status = response.status;
        if (response.status != 200) {
            network_error("GET " + location + ": HTTP " + std::to_string(response.status));
        }
        return std::move(response.body);
    }
    const std::string path = location.rfind("file://", 0) == 0 ? location.substr(7) : location;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ClientError(ExitCode::tree, "cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    if (http_status != nullptr) *http_status = 0;
    return text.str();
}

}  // namespace zkclient
