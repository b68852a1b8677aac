import Foundation

/// Where the configuration's files come from. Parsing `station.toml` reads the files it names
/// (the register map, the signing key, the technicians and calibration files) only through this,
/// so reading files and parsing them are apart: the unit passes the local file system, a test an
/// in-memory map.
public protocol ConfigFiles: Sendable {
    func exists(_ path: String) -> Bool
    /// The file's bytes, or nil when it cannot be read.
    func contents(_ path: String) -> [UInt8]?
    /// The file's permission bits (`st_mode & 0o777`), or nil when unknown.
    func permissions(_ path: String) -> Int?
}

extension ConfigFiles {
    public func permissions(_ path: String) -> Int? { nil }
}

/// The local file system.
public struct LocalConfigFiles: ConfigFiles {
    public init() {}
    public func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
    public func contents(_ path: String) -> [UInt8]? { FileManager.default.contents(atPath: path).map { Array($0) } }
    public func permissions(_ path: String) -> Int? {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber).map { $0.intValue & 0o777 }
    }
}

/// Files held in memory, by absolute path; a directory exists when it is listed or a file lies
/// under it.
public struct InMemoryConfigFiles: ConfigFiles {
    public var files: [String: [UInt8]]
    public var directories: Set<String>
    /// Permission bits by path; a file not listed has none known.
    public var modes: [String: Int] = [:]
    public init(_ files: [String: [UInt8]], directories: Set<String> = []) {
        self.files = files
        self.directories = directories
    }
    public func permissions(_ path: String) -> Int? { modes[path] }
    public func exists(_ path: String) -> Bool {
        files[path] != nil || directories.contains(path) || files.keys.contains { $0.hasPrefix(path.hasSuffix("/") ? path : path + "/") }
    }
    public func contents(_ path: String) -> [UInt8]? { files[path] }
}
