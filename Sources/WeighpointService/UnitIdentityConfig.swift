import WeighpointCrypto
import Foundation
import WeighpointCore
import WeighpointEvidence
import WeighpointJSON

extension UnitIdentity {
    /// The unit's identity as every record carries it: device, station, the instrument with its
    /// register map (part of how loads were read), the calibration profile in force at start, and
    /// the software.
    init(config: StationConfig, software: SoftwareIdentity) throws {
        let profileBytes = FileManager.default.contents(atPath: config.wim.profile.source).map { [UInt8]($0) } ?? []
        var station: JSONObject = ["code": .string(config.station.code), "site_type": .string(config.station.siteType)]
        if let v = config.station.name { station["name"] = .string(v) }
        if let v = config.station.road { station["road"] = .string(v) }
        if let v = config.station.stake { station["stake"] = .string(v) }
        if let v = config.station.direction { station["direction"] = .string(v) }
        if let v = config.station.latitude { station["latitude"] = .double(v) }
        if let v = config.station.longitude { station["longitude"] = .double(v) }
        var instrument: JSONObject = [
            "model": .string(config.wim.model), "serial": .string(config.wim.serial), "accuracy_class": .string(config.wim.accuracyClass),
        ]
        if let v = config.wim.certificate { instrument["certificate"] = .string(v) }
        if let v = config.wim.certificateValidUntil { instrument["certificate_valid_until"] = .string(v) }
        instrument["register_map"] = .string(config.wim.profile.name)
        instrument["register_map_sha256"] = .string(try Digest.hexDigest(of: profileBytes))
        // Records carry the profile in force with their weighing; this names the one at start.
        let calibrationBytes = FileManager.default.contents(atPath: config.calibrationProfile) ?? Data(CalibrationFile.render(CalibrationProfile()).utf8)
        self.init(
            deviceID: config.station.deviceID, station: station, instrument: instrument,
            calibrationProfileSHA256: try Digest.hexDigest(of: calibrationBytes), softwareVersion: software.version, softwareSHA256: software.executableSHA256)
    }
}
