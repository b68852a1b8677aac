import WeighpointTOML
import WeighpointCrypto
import Foundation
import Logging
import WeighpointConsole
import WeighpointCore
import WeighpointEvidence
import WeighpointSystem
import WeighpointJSON

/// The calibration profile in force, its file, and its history. Every version that was ever in
/// force is kept under `<data>/calibration/<sha256>.toml`, so the profile a record names can be
/// found years later; reference runs are kept beside them (`runs/`). A change is recorded in the
/// audit trail before it is written and swapped in; a change made to the file behind the unit's
/// back is recorded at the next start as made by "file".
public final class CalibrationKeeper: @unchecked Sendable {
    public let path: String
    public let archive: String
    let store: EvidenceStore
    let lanes: [Int]
    private let lock = NSLock()
    private var current: (profile: CalibrationProfile, sha256: String)

    /// Loads the profile (creating an empty one, recorded as such, when there is none). A profile
    /// that does not parse stops start-up with its line and key.
    public init(path: String, store: EvidenceStore, lanes: [Int], logger: Logger) throws {
        self.path = path
        self.store = store
        self.lanes = lanes
        archive = store.directory + "/calibration"
        try FileManager.default.createDirectory(atPath: archive + "/runs", withIntermediateDirectories: true)
        var created = false
        if !FileManager.default.fileExists(atPath: path) {
            try durableWrite(Array(CalibrationFile.render(CalibrationProfile()).utf8), to: path)
            created = true
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(problems: [ConfigProblem(file: path, line: nil, key: "-", message: "cannot read the calibration profile")])
        }
        let profile = try CalibrationFile.parse(String(decoding: data, as: UTF8.self), file: path, lanes: lanes)
        let sha = try Digest.hexDigest(of: data)
        current = (profile, sha)
        try keep(Array(data), sha)
        let previous = try store.unitValue("calibration_sha256")
        if previous != sha {
            let event = created ? "calibration_created" : "calibration_change"
            // Without an audit entry the change would go unrecorded: refuse to start instead.
            try store.appendAudit(event: event, who: previous == nil ? "weighpointd" : "file", parameter: "calibration profile \(path)",
                                  old: previous.map { "sha256:\($0)" }, new: "sha256:\(sha)")
            try store.setUnitValue("calibration_sha256", sha)
            logger.notice("calibration profile", metadata: ["event": "\(event)", "sha256": "\(sha)", "file": "\(path)"])
        }
        logger.info("calibration in force", metadata: ["sha256": "\(sha)", "factors": "\(profile.factors.count)", "file": "\(path)"])
    }

    public var snapshot: (profile: CalibrationProfile, sha256: String) { lock.withLock { current } }

    /// Corrects a weighing with the profile in force.
    public func apply(to w: Weighing) -> Weighing {
        let (p, sha) = snapshot
        return p.apply(to: w, profileSHA256: sha)
    }

    private func keep(_ bytes: [UInt8], _ sha: String) throws {
        let copy = archive + "/" + sha + ".toml"
        if !FileManager.default.fileExists(atPath: copy) { try durableWrite(bytes, to: copy) }
    }

    /// Records, writes and swaps in `new`: the archive copy first, then the audit entries (all
    /// or none), then the active file, then memory. Returns the new SHA-256.
    public func change(to new: CalibrationProfile, changes: [ParameterChange], by who: String, reference: ReferenceRun?, at time: Timestamp) throws -> String {
        try lock.withLock {
            let bytes = Array(CalibrationFile.render(new).utf8)
            let sha = try Digest.hexDigest(of: bytes)
            try keep(bytes, sha)
            var audit = changes.map {
                AuditChange(event: $0.parameter == "tolerance" ? "tolerance_change" : "calibration_change", who: who, parameter: $0.parameter, old: $0.old, new: $0.new)
            }
            if let reference {
                let run = try saveRun(reference, who: who, profileBefore: current.sha256, at: time)
                audit.append(AuditChange(event: "calibration_reference", who: who, parameter: "reference run lane \(reference.lane)", old: nil, new: run))
            }
            audit.append(AuditChange(event: "calibration_profile", who: who, parameter: "calibration profile", old: "sha256:\(current.sha256)", new: "sha256:\(sha)"))
            try store.appendAudit(audit, time: time)
            try durableWrite(bytes, to: path)
            try store.setUnitValue("calibration_sha256", sha)
            current = (new, sha)
            return sha
        }
    }

    /// The passes a reference run was made of, as canonical JSON under `runs/`; returns
    /// `runs/NAME sha256:…` for the audit entry.
    private func saveRun(_ run: ReferenceRun, who: String, profileBefore: String, at time: Timestamp) throws -> String {
        let stats = run.errorStatistics
        let doc = JSONValue.object([
            "format": .string("weighpoint.reference-run/1"), "time": .string(time.description), "technician": .string(who),
            "lane": .int(Int64(run.lane)), "profile_before_sha256": .string(profileBefore),
            "vehicle": .object([
                "axles_kg": .array(run.vehicle.axlesKg.map { .int(Int64($0)) }), "gross_kg": .int(Int64(run.vehicle.grossKg)),
                "axles": run.vehicle.configuration.map { .string($0.description) } ?? .null,
            ]),
            "passes": .array(run.passes.map { p in
                .object([
                    "controller_seq": .int(Int64(p.controllerSeq)), "speed_kmh": .double(p.speedKmh),
                    "controller_axles_kg": .array(p.controllerAxlesKg.map { .int(Int64($0)) }), "controller_gross_kg": .int(Int64(p.controllerGrossKg)),
                    "factor_1e4": .int(Int64(p.appliedFactor.tenThousandths)), "error_1e4": .int(Int64(p.grossErrorHundredths(run.vehicle))),
                ])
            }),
            "mean_error_percent": stats.map { .double(($0.mean * 100).rounded() / 100) } ?? .null,
            "spread_percent": stats.map { .double(($0.spread * 100).rounded() / 100) } ?? .null,
        ])
        let bytes = doc.canonicalBytes
        let stamp = time.rfc3339(fractionDigits: 0).replacingOccurrences(of: ":", with: "")
        let name = "runs/\(stamp)-lane\(run.lane).json"
        try durableWrite(bytes, to: archive + "/" + name)
        return "\(name) sha256:\(try Digest.hexDigest(of: bytes))"
    }
}
