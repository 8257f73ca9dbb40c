#include "zkclient/private_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <sodium.h>

#include "zkclient/error.hpp"

namespace zkclient {

namespace {

[[noreturn]] void fail(const std::string& what) { throw ClientError(ExitCode::state, what); }

[[noreturn]] void fail_errno(const std::string& what, const std::string& path) {
    fail(what + " " + path + ": " + std::strerror(errno));
}

std::string directory_of(const std::string& path) {
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

void fsync_directory(const std::string& path) {
    const std::string dir = directory_of(path);
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail_errno("cannot open directory", dir);
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) fail_errno("cannot fsync directory", dir);
}

// Writes `text` to a fresh 0600 file at `tmp` and makes it durable.
void write_temporary(const std::string& tmp, std::string_view text) {
    if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) fail_errno("cannot remove", tmp);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) fail_errno("cannot create", tmp);
    size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int saved = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            errno = saved;
            fail_errno("cannot write", tmp);
        }
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0) {
        const int saved = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        errno = saved;
        fail_errno("cannot fsync", tmp);
    }
    ::close(fd);
}

}  // namespace

void private_file_replace(const std::string& path, std::string_view bytes) {
    const std::string tmp = path + ".tmp";
    write_temporary(tmp, bytes);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int saved = errno;
        ::unlink(tmp.c_str());
        errno = saved;
        fail_errno("cannot replace", path);
    }
    fsync_directory(path);
}

void private_file_create(const std::string& path, std::string_view bytes) {
    const std::string tmp = path + ".tmp";
    write_temporary(tmp, bytes);
    // link() fails when path exists: an existing file is never replaced.
    if (::link(tmp.c_str(), path.c_str()) != 0) {
        const int saved = errno;
        ::unlink(tmp.c_str());
        if (saved == EEXIST) fail(path + " exists; refusing to overwrite it");
        errno = saved;
        fail_errno("cannot create", path);
    }
    ::unlink(tmp.c_str());
    fsync_directory(path);
}

bool private_file_read(const std::string& path, std::string& out) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return false;
        fail_errno("cannot open", path);
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) {
        ::close(fd);
        fail_errno("cannot stat", path);
    }
    if ((st.st_mode & 077) != 0) {
        ::close(fd);
        fail(path + " is accessible by group or others; chmod 600 it");
    }
    std::string text;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ::close(fd);
            sodium_memzero(text.data(), text.size());
            fail_errno("cannot read", path);
        }
        if (n == 0) break;
        text.append(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    sodium_memzero(buffer, sizeof buffer);
    out.swap(text);
    sodium_memzero(text.data(), text.size());
    return true;
}

void private_file_remove(const std::string& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail_errno("cannot remove", path);
    fsync_directory(path);
}

}  // namespace zkclient
