import Foundation
import Synchronization
import WeighpointCore
import WeighpointCrypto

/// Which public keys may sign records for which device. A record is accepted only under a key
/// registered for its `device_id`: unit A's key cannot put records into device B's chain.
public protocol DeviceKeyRegistry: Sendable {
    /// The keys registered for `device` (a valid device id); empty when it is not registered.
    func keys(for device: String) -> [SigningKey]
    /// Why registrations of `device` could not be used (a key file that is not a public key), so
    /// that a refusal says so instead of "not registered".
    func problems(for device: String) -> [String]
}

extension DeviceKeyRegistry {
    public func problems(for device: String) -> [String] { [] }
}

/// Keys in a directory, one file per key: `<device_id>.pem`, and `<device_id>.<label>.pem` for
/// further keys of the same device (the one it used before a key change, while its records are
/// still arriving); device ids have no '.', so the first '.' ends the id. Looked up at each
/// record (a key parsed again only when its file changes), so a device registered while the
/// receiver runs is taken at once; a file that is not a
/// public key is skipped and said by `inventory`.
public final class DeviceKeyDirectory: DeviceKeyRegistry {
    public let directory: String
    /// Keys parsed, by path, with the file's modification time: a record costs a directory
    /// listing and a stat per key file, not a PEM parse.
    private let parsed = Mutex<[String: (modified: Date, key: SigningKey)]>([:])

    public init(directory: String) { self.directory = directory }

    public func keys(for device: String) -> [SigningKey] {
        guard DeviceID.isValid(device) else { return [] }
        return files(of: device).compactMap { name in
            let path = directory + "/" + name
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date else { return nil }
            if let hit = parsed.withLock({ $0[path] }), hit.modified == modified { return hit.key }
            guard let key = try? SigningKey.load(path: path) else { return nil }
            parsed.withLock { $0[path] = (modified, key) }
            return key
        }
    }

    public func problems(for device: String) -> [String] {
        guard DeviceID.isValid(device) else { return [] }
        return files(of: device).compactMap { name in
            do {
                _ = try SigningKey.load(path: directory + "/" + name)
                return nil
            } catch {
                return "\(name): \(error)"
            }
        }
    }

    func files(of device: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".pem") && Self.device(of: $0) == device }.sorted()
    }

    /// The device a key file is for: its name up to the first '.'.
    static func device(of file: String) -> String {
        String(file.prefix { $0 != "." })
    }

    /// Devices registered, and files that are not usable (bad name, not a public key).
    public func inventory() -> (devices: [String: Int], problems: [String]) {
        var devices: [String: Int] = [:]
        var problems: [String] = []
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted() where name.hasSuffix(".pem") {
            let device = Self.device(of: name)
            guard DeviceID.isValid(device) else {
                problems.append("\(directory)/\(name): '\(device)' is not a device id")
                continue
            }
            do {
                _ = try SigningKey.load(path: directory + "/" + name)
                devices[device, default: 0] += 1
            } catch {
                problems.append("\(directory)/\(name): \(error)")
            }
        }
        return (devices, problems)
    }
}

/// Keys held in memory by device id (tests, benchmarks, the demo).
public struct FixedDeviceKeys: DeviceKeyRegistry {
    public let byDevice: [String: [SigningKey]]
    public init(_ byDevice: [String: [SigningKey]]) { self.byDevice = byDevice }
    public func keys(for device: String) -> [SigningKey] { byDevice[device] ?? [] }
}
