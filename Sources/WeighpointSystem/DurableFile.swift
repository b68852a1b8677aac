#if canImport(Glibc)
import Glibc
#endif

/// Replaces the file at `path` with `bytes` so that it survives a power cut: a temporary file
/// beside it, written in full and fsynced, renamed over the old one, then the directory fsynced so
/// the rename itself is on disk. Readers see the old content or the new, never a part. Every
/// state file of the unit is written this way.
public func durableWrite(_ bytes: [UInt8], to path: String) throws(SystemError) {
    let slash = path.lastIndex(of: "/")
    let dir = slash.map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
    let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
    let tmp = dir + "/." + name + ".tmp"
    let fd = try SystemCall.retrying("open", tmp) { open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
    do {
        var offset = 0
        while offset < bytes.count {
            let n = try SystemCall.retrying("write", tmp) { bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) } }
            offset += n
        }
        try SystemCall.retrying("fsync", tmp) { fsync(fd) }
    } catch {
        close(fd)
        unlink(tmp)
        throw error
    }
    // close is not retried: on Linux the descriptor is gone even when it reports EINTR.
    if close(fd) != 0 && errno != EINTR { throw SystemError("close", tmp) }
    try SystemCall.retrying("rename", path) { rename(tmp, path) }
    try syncDirectory(dir)
}

/// fsyncs a directory, so that entries created or renamed in it are on disk.
public func syncDirectory(_ dir: String) throws(SystemError) {
    let dfd = try SystemCall.retrying("open", dir) { open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    defer { close(dfd) }
    try SystemCall.retrying("fsync", dir) { fsync(dfd) }
}

/// Creates directory `dir` (its parent must exist) so that it survives a power cut: the parent
/// is fsynced after the mkdir. An existing directory is left as it is.
public func makeDurableDirectory(_ dir: String, mode: mode_t = 0o755) throws(SystemError) {
    if mkdir(dir, mode) == 0 {
        let slash = dir.lastIndex(of: "/")
        let parent = slash.map { String(dir[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        try syncDirectory(parent)
    } else if errno != EEXIST {
        throw SystemError("mkdir", dir)
    }
}
