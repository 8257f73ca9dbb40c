#pragma once
// Files only their owner may read (the state file, the precomputed proof):
// written as a fresh 0600 temporary next to the target, fsynced, then
// renamed or linked into place and the directory fsynced, so that after a
// crash the target holds either its old or its new bytes in full. Every
// failure throws ClientError(ExitCode::state).

#include <string>
#include <string_view>

namespace zkclient {

// Replaces `path` atomically and durably.
void private_file_replace(const std::string& path, std::string_view bytes);
// Creates `path`; refuses (ClientError) if it exists, never overwrites.
void private_file_create(const std::string& path, std::string_view bytes);
// Reads the whole file into `out`; false when it does not exist. Refuses a
// file readable or writable by group or others. The read buffer is wiped.
bool private_file_read(const std::string& path, std::string& out);
// Removes `path` (absent is fine) and makes the removal durable.
void private_file_remove(const std::string& path);

}  // namespace zkclient
