import Foundation
import GRDB
import Glibc
import WeighpointEvidence

/// The floor for the store benchmark: per record, the same image bytes written to temp files,
/// fsynced, renamed, the directory fsynced, and one small row committed to a SQLite database in
/// WAL with synchronous=FULL — the unavoidable work, and nothing else (no hashing, no signing,
/// no canonical JSON).
public enum StoreFloor {
    /// Seconds for all records.
    public static func run(directory: String, records: [[[UInt8]]]) throws -> Double {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let db = try EvidenceStore.durablePool(path: directory + "/floor.sqlite")
        try db.write { try $0.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)") }
        let start = Date()
        for (i, images) in records.enumerated() {
            for (k, bytes) in images.enumerated() {
                let tmp = directory + "/.\(i)-\(k).tmp", final = directory + "/\(i)-\(k).jpg"
                let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                fsync(fd)
                close(fd)
                rename(tmp, final)
                let dfd = open(directory, O_RDONLY | O_DIRECTORY)
                fsync(dfd)
                close(dfd)
            }
            try db.write { try $0.execute(sql: "INSERT INTO t (id, body) VALUES (?, ?)", arguments: [i, Data(repeating: 0x41, count: 2000)]) }
        }
        return Date().timeIntervalSince(start)
    }
}
