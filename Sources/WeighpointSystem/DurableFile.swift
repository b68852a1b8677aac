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
    try SystemCall.retrying("close", tmp) { close(fd) }
    try SystemCall.retrying("rename", path) { rename(tmp, path) }
    try syncDirectory(dir)
}

/// fsyncs a directory, so that entries created or renamed in it are on disk.
public func syncDirectory(_ dir: String) throws(SystemError) {
    let dfd = try SystemCall.retrying("open", dir) { open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    defer { close(dfd) }
    try SystemCall.retrying("fsync", dir) { fsync(dfd) }
}
