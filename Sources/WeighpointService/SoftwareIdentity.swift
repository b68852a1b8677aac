import WeighpointCrypto
import Foundation
import WeighpointCapture
import WeighpointConsole
import WeighpointEvidence
import WeighpointModbus
import WeighpointRecognition

/// The software identification of OIML D 31: version and a hash of the executable that runs,
/// plus the libraries it loaded. Printed by `weighpoint version`, logged at every start, and
/// carried in every record.
public struct SoftwareIdentity: Sendable, Equatable {
    /// The legally relevant version of Weighpoint.
    public static let version = "0.1.0"

    public let version: String
    /// Path of the running executable.
    public let executablePath: String
    /// SHA-256 of the executable file, hex.
    public let executableSHA256: String
    public let libraries: [LinkedLibrary]

    /// The identity of the running process: hashes `/proc/self/exe`.
    public static func current() throws(DigestError) -> SoftwareIdentity {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "/proc/self/exe"
        return SoftwareIdentity(
            version: version, executablePath: exe,
            executableSHA256: try Digest.hexDigest(ofFileAt: "/proc/self/exe"),
            libraries: LinkedLibrary.loaded())
    }

    /// Human-readable lines, one fact each.
    public var lines: [String] {
        var out = ["weighpoint \(version)", "executable \(executablePath)", "sha256 \(executableSHA256)"]
        for l in libraries {
            out.append("\(l.name) \(l.version ?? "(no version call)")\(l.file.map { " \($0)" } ?? "")")
        }
        return out
    }
}

/// A C library linked into the executable, with the version it reports and the file loaded.
public struct LinkedLibrary: Sendable, Equatable {
    public let name: String
    public let version: String?
    /// The shared object mapped into this process, from /proc/self/maps.
    public let file: String?

    static func loaded() -> [LinkedLibrary] {
        _ = V4L2Library.anchor
        // /proc files report size 0, so read to the end rather than by the stat size.
        let maps = FileHandle(forReadingAtPath: "/proc/self/maps").map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) } ?? ""
        let files = Set(maps.split(separator: "\n").compactMap { line -> String? in
            guard let slash = line.firstIndex(of: "/") else { return nil }
            return String(line[slash...])
        })
        func file(_ stem: String) -> String? { files.filter { ($0 as NSString).lastPathComponent.hasPrefix(stem + ".so") }.sorted().first }
        return [
            LinkedLibrary(name: "libmodbus", version: ModbusLibrary.version, file: file("libmodbus")),
            LinkedLibrary(name: "libv4l2", version: V4L2Library.version, file: file("libv4l2")),
            LinkedLibrary(name: "libserialport", version: SerialPortLibrary.version, file: file("libserialport")),
            LinkedLibrary(name: "libcrypto", version: OpenSSLLibrary.version, file: file("libcrypto")),
            LinkedLibrary(name: "libopencv_dnn", version: "OpenCV " + PlateRecognizer.openCVVersion, file: file("libopencv_dnn")),
        ]
    }
}
