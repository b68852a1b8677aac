import Foundation
import Glibc

/// One writer per data directory across processes: an exclusive `flock` on `<directory>/lock`,
/// held while a store on it is open in this process. Two processes writing one store (the
/// daemon, and `weighpoint console --stdio` or `weighpoint deliver` started on the same data by
/// mistake) would each continue the hash chain from their own idea of its end. The kernel drops
/// the lock when the process dies, so a crash leaves nothing to clean up. Opens within one
/// process share the lock; it is released when the last `DirectoryLock` of the directory goes.
final class DirectoryLock: @unchecked Sendable {
    let path: String
    private static let mutex = NSLock()
    /// Lock files held by this process: descriptor and the number of holders.
    nonisolated(unsafe) private static var held: [String: (fd: Int32, holders: Int)] = [:]  // under `mutex`

    private init(path: String) { self.path = path }

    deinit {
        Self.mutex.lock()
        defer { Self.mutex.unlock() }
        guard let h = Self.held[path] else { return }
        if h.holders > 1 {
            Self.held[path] = (h.fd, h.holders - 1)
        } else {
            Self.held[path] = nil
            close(h.fd)
        }
    }

    /// Takes the lock of `directory` (which exists), or throws naming the process holding it.
    static func acquire(_ directory: String) throws(StoreError) -> DirectoryLock {
        let path = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path + "/lock"
        mutex.lock()
        defer { mutex.unlock() }
        if let h = held[path] {
            held[path] = (h.fd, h.holders + 1)
            return DirectoryLock(path: path)
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path, "cannot open the lock file: \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let why = errno
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            guard why == EWOULDBLOCK else { throw .io(path, "cannot lock: \(String(cString: strerror(why)))") }
            let owner = n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "unknown"
            throw .io(directory, "in use by another process (pid \(owner)); one writer per data directory: stop it first (`weighpoint verify` and `export` only read and may run alongside)")
        }
        // Whose lock it is, for that message (the lock itself is the flock, not this text).
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        held[path] = (fd, 1)
        return DirectoryLock(path: path)
    }
}
