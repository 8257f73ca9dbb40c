#pragma once
// A small JSON reader for the test-vector files: objects, arrays, strings
// (escapes \" \\ \/ \n \t only), numbers kept as their text, true, false,
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

// False when the file is missing or is not JSON.
inline bool load_file(const std::string& path, Value& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return false;
    }
    std::stringstream buf;
    buf << in.rdbuf();
    std::string text = buf.str();
    return Parser(text).parse(out);
}

}  // namespace mini_json
