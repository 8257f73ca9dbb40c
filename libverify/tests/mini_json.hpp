#pragma once
// A small JSON reader for the test-vector files: objects, arrays, strings
// (escapes \" \\ \/ \n \t \uXXXX), numbers kept as their text, true, false,
// null. Test code only; the library itself reads no JSON here.

#include <cctype>
#include <cstddef>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace mini_json {

struct Value {
    enum class Kind { null, boolean, number, string, array, object };
    Kind kind = Kind::null;
    bool boolean = false;
    std::string text;  // string contents, or the number's digits
    std::vector<Value> items;
    std::map<std::string, Value> members;

    const Value& operator[](const std::string& key) const {
        static const Value missing;
        auto it = members.find(key);
        return it == members.end() ? missing : it->second;
    }
    const Value& operator[](size_t i) const { return items.at(i); }
    size_t size() const { return kind == Kind::array ? items.size() : members.size(); }
    bool is_string() const { return kind == Kind::string; }
};

class Parser {
public:
    explicit Parser(const std::string& text) : s_(text) {}

    bool parse(Value& out) {
        if (!value(out)) {
            return false;
        }
        skip_ws();
        return pos_ == s_.size();
    }

private:
    void skip_ws() {
        while (pos_ < s_.size() &&
               (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) {
            ++pos_;
        }
    }

    bool literal(const char* word) {
        std::string w(word);
        if (s_.compare(pos_, w.size(), w) != 0) {
            return false;
        }
        pos_ += w.size();
        return true;
    }

    bool hex4(unsigned& out) {
        if (pos_ + 4 > s_.size()) {
            return false;
        }
        out = 0;
        for (int i = 0; i < 4; ++i) {
            char c = s_[pos_++];
            unsigned d = 0;
            if (c >= '0' && c <= '9') {
                d = static_cast<unsigned>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                d = static_cast<unsigned>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                d = static_cast<unsigned>(c - 'A' + 10);
            } else {
                return false;
            }
            out = out * 16 + d;
        }
        return true;
    }

    static void append_utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xc0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xe0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            out += static_cast<char>(0xf0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        }
    }

    bool string(std::string& out) {
        if (s_[pos_] != '"') {
            return false;
        }
        ++pos_;
        out.clear();
        while (pos_ < s_.size() && s_[pos_] != '"') {
            char c = s_[pos_++];
            if (c == '\\') {
                if (pos_ >= s_.size()) {
                    return false;
                }
                char e = s_[pos_++];
                switch (e) {
                case '"': case '\\': case '/': out += e; break;
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    unsigned cp = 0;
                    if (!hex4(cp)) {
                        return false;
                    }
                    if (cp >= 0xd800 && cp < 0xdc00) {
                        unsigned low = 0;
                        if (!literal("\\u") || !hex4(low) || low < 0xdc00 || low >= 0xe000) {
                            return false;
                        }
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                    }
                    append_utf8(out, cp);
                    break;
                }
                default: return false;
                }
            } else {
                out += c;
            }
        }
        if (pos_ >= s_.size()) {
            return false;
        }
        ++pos_;
        return true;
    }

    bool value(Value& out) {
        skip_ws();
        if (pos_ >= s_.size()) {
            return false;
        }
        char c = s_[pos_];
        if (c == '{') {
            out.kind = Value::Kind::object;
            ++pos_;
            skip_ws();
            if (pos_ < s_.size() && s_[pos_] == '}') {
                ++pos_;
                return true;
            }
            for (;;) {
                skip_ws();
                std::string key;
                if (pos_ >= s_.size() || !string(key)) {
                    return false;
                }
                skip_ws();
                if (pos_ >= s_.size() || s_[pos_++] != ':') {
                    return false;
                }
                if (!value(out.members[key])) {
                    return false;
                }
                skip_ws();
                if (pos_ >= s_.size()) {
                    return false;
                }
                char sep = s_[pos_++];
                if (sep == '}') {
                    return true;
                }
                if (sep != ',') {
                    return false;
                }
            }
        }
        if (c == '[') {
            out.kind = Value::Kind::array;
            ++pos_;
            skip_ws();
            if (pos_ < s_.size() && s_[pos_] == ']') {
                ++pos_;
                return true;
            }
            for (;;) {
                out.items.emplace_back();
                if (!value(out.items.back())) {
                    return false;
                }
                skip_ws();
                if (pos_ >= s_.size()) {
                    return false;
                }
                char sep = s_[pos_++];
                if (sep == ']') {
                    return true;
                }
                if (sep != ',') {
                    return false;
                }
            }
        }
        if (c == '"') {
            out.kind = Value::Kind::string;
            return string(out.text);
        }
        if (literal("true")) {
            out.kind = Value::Kind::boolean;
            out.boolean = true;
            return true;
        }
        if (literal("false")) {
            out.kind = Value::Kind::boolean;
            return true;
        }
        if (literal("null")) {
            out.kind = Value::Kind::null;
            return true;
        }
        size_t start = pos_;
        while (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) ||
                                    s_[pos_] == '-' || s_[pos_] == '+' || s_[pos_] == '.' ||
                                    s_[pos_] == 'e' || s_[pos_] == 'E')) {
            ++pos_;
        }
        if (pos_ == start) {
            return false;
        }
        out.kind = Value::Kind::number;
        out.text = s_.substr(start, pos_ - start);
        return true;
    }

    const std::string& s_;
    size_t pos_ = 0;
};

enum class Load { ok, missing, malformed };

inline Load load_file(const std::string& path, Value& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Load::missing;
    }
    std::stringstream buf;
    buf << in.rdbuf();
    std::string text = buf.str();
    return Parser(text).parse(out) ? Load::ok : Load::malformed;
}

}  // namespace mini_json
