import WeighpointTOML
import Foundation
import WeighpointHTTP
import WeighpointCapture
import WeighpointConsole
import WeighpointCore
import WeighpointEvidence
import WeighpointModbus
import WeighpointRecognition

/// The station configuration: one human-edited TOML file (Hardware/station.example.toml is the
/// annotated template). Relative paths in it are relative to the file's directory.
public struct StationConfig: Sendable {
    public struct Station: Sendable {
        public var code: String
        public var deviceID: String
        /// `fixed` (治超站) or `video` (non-site video evidence point).
        public var siteType: String
        public var name: String?
        public var road: String?
        public var stake: String?
        public var direction: String?
        public var latitude: Double?
        public var longitude: Double?
    }

    public struct Lane: Sendable {
        public var number: Int
        public var direction: String?
    }

    public struct WIM: Sendable {
        public var profile: WIMProfile
        public var transport: ModbusTransport
        public var unitID: Int?
        public var pollIntervalMs: Int
        public var responseTimeoutMs: Int
        public var model: String
        public var serial: String
        public var accuracyClass: String
        public var certificate: String?
        public var certificateValidUntil: String?
        /// A weighing dated further ahead of the unit's clock is implausible, s (default 300).
        public var maxClockAheadS = 300
        /// A weighing older than this when it arrives is implausible, h (default 72).
        public var maxWeighingAgeH = 72
        /// More sequence resets than this in an hour make the controller faulty (default 3).
        public var maxSequenceResetsPerHour = 3
    }

    public enum CameraSource: Sendable, Equatable {
        case device(String)
        case replay(directory: String, fps: Double)
    }

    public struct CameraConfig: Sendable {
        public var id: String
        public var lane: Int
        public var role: CameraRole
        public var distanceM: Double
        public var source: CameraSource
        public var formats: [PixelFormat]
        public var width: Int
        public var height: Int
        public var fps: Int
        public var preWindowS: Double
        public var postWindowS: Double
        public var jpegQuality: Int
        /// How far from the expected time a frame may be and still be evidence, ms.
        public var toleranceMs: Int
        /// Where this camera's plate reads come from: pushed by the camera over HTTPS, read
        /// from its frames by the built-in recogniser, or none (an evidence camera).
        public var plates: PlateSource
        /// For pushed reads: the credentials that may post this camera's reads (at least one;
        /// two while one is being replaced).
        public var credentials: [PushCredential] = []
        /// The part of the frame the recogniser looks at (pixels); nil: all of it.
        public var roi: PlateBox?
        /// Frames around the expected time the recogniser reads per vehicle (bounded work).
        public var recognizerFrames: Int

        /// The camera as the decision core sees it (expected times, association).
        public var camera: Camera { Camera(id: id, lane: lane, role: role, distanceM: distanceM) }
    }

    public enum PlateSource: String, Sendable, CaseIterable {
        case pushed
        case recognizer
        case none
    }

    /// `[http]` tls_listen, tls_certificate, tls_key, tls_client_ca: the listener that takes
    /// authenticated requests (plate reads), needed when a camera pushes reads.
    public struct TLSListener: Sendable {
        public var listen: String
        public var certificate: String
        public var key: String
        /// The CA that issues the cameras' client certificates; nil when every credential is a token.
        public var clientCA: String?
    }

    /// The built-in recogniser (`[recognizer]`), for cameras with `plates = "recognizer"`.
    public struct Recognizer: Sendable {
        public var models: String
        /// Confidence from which a voted reading is the plate; below it, candidates for review.
        public var threshold: Double
        public var detectSides: [Int]
        public var fallbackSides: [Int]
        /// Edge-search regions read when the detector finds nothing (0: none).
        public var edgeSearch: Int
    }

    public struct WatchListConfig: Sendable {
        public var name: String
        public var file: String
    }

    public struct Rules: Sendable {
        public var tolerance: Tolerance
        public var matchWindowMs: Int
        public var permitsFile: String?
        public var watchLists: [WatchListConfig]
    }

    public struct Storage: Sendable {
        public var data: String
        public var retentionDays: Int?
        public var minFreeMB: Int
        /// How long SIGTERM may spend deciding and committing what is pending, s (default 45,
        /// below the systemd unit's TimeoutStopSec); the rest stays journalled for the next start.
        /// 0: nothing is decided at a stop, everything pending is left to the next start.
        public var stopBudgetS = 45
    }

    public struct Signing: Sendable {
        public var key: String
        public var distinguishingID: String?
    }

    public struct CaseSystem: Sendable {
        public var url: String
        public var clientCertificate: String?
        public var clientKey: String?
        public var caBundle: String?
        public var tokenFile: String?
        public var format: String
    }

    /// The technician console: a serial port (none: only `weighpoint console --stdio`), its line
    /// settings, and who may log in.
    public struct Console: Sendable {
        public var port: String?
        public var serial: SerialSettings
        public var techniciansFile: String
        public var settings: ConsoleSettings
    }

    public var file: String
    public var station: Station
    public var lanes: [Lane]
    public var wim: WIM
    public var cameras: [CameraConfig]
    /// The unit's plain HTTP listener (host:port, loopback by default): health and metrics only.
    public var httpListen: String
    /// The TLS listener for authenticated clients (cameras pushing reads), if any camera pushes.
    public var tlsListener: TLSListener?
    /// `[http]` camera_reads_per_second and read_clock_skew_ms: what a pushed read may be.
    public var readLimits = PlateReadIntake.Limits()
    /// `[http]` max_connections, max_connections_per_address, header_timeout_s, request_timeout_s.
    public var connectionLimits = ConnectionGuard.Limits()
    public var rules: Rules
    public var storage: Storage
    public var signing: Signing
    public var caseSystem: CaseSystem?
    public var console: Console?
    /// Set when a camera uses the built-in recogniser.
    public var recognizer: Recognizer?
    /// The calibration profile in force (Calibration/README.md); the unit writes it when a
    /// technician changes it. Default: `calibration.toml` in the data directory.
    public var calibrationProfile: String
    /// Where the file names replay cameras (`replay = DIR`): a development source. The unit
    /// refuses to start on them (`replaySourceProblem`); weighpoint-dev runs such a station.
    public var replaySources: [ConfigProblem] = []

    /// The error weighpointd stops with when any camera is a replay, or nil.
    public var replaySourceProblem: ConfigError? {
        replaySources.isEmpty ? nil : ConfigError(problems: replaySources)
    }

    /// Loads and validates; throws `ConfigError` listing every problem with file, line and key.
    public static func load(path: String, files: any ConfigFiles = LocalConfigFiles()) throws(ConfigError) -> StationConfig {
        guard let data = files.contents(path) else {
            throw ConfigError(problems: [ConfigProblem(file: path, line: nil, key: "-", message: "cannot read the file")])
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path, files: files)
    }

    /// Validates configuration text; the files it names are read through `files`.
    public static func parse(_ text: String, file: String, files: any ConfigFiles = LocalConfigFiles()) throws(ConfigError) -> StationConfig {
        let r = ConfigReader(file: file, text: text)
        let root = r.root(text)
        guard root.table != nil else { throw ConfigError(problems: r.problems) }
        root.rejectUnknown(["station", "lanes", "wim", "cameras", "http", "rules", "storage", "signing", "case_system", "console", "calibration", "recognizer"])
        let p = SectionParser(reader: r, file: file, files: files)
        let station = p.station(root.section("station"))
        let lanes = p.lanes(root)
        let wim = p.wim(root.section("wim"))
        let (cameras, replaySources) = p.cameras(root, lanes: Set(lanes.map(\.number)))
        let (httpListen, readLimits, connectionLimits) = p.http(root.section("http"))
        let tlsListener = p.tlsListener(root.section("http"), cameras: cameras)
        let rules = p.rules(root.section("rules", required: false))
        let storage = p.storage(root.section("storage"))
        let signing = p.signing(root.section("signing"))
        let caseSystem = root.has("case_system") ? p.caseSystem(root.section("case_system")) : nil
        let console = root.has("console") ? p.console(root.section("console")) : nil
        let recognizer = p.recognizer(root, cameras: cameras)
        let calibrationProfile = p.calibrationProfile(root.section("calibration", required: false), storage: storage, lanes: lanes)
        guard r.problems.isEmpty, let wim else { throw ConfigError(problems: r.problems) }
        var config = StationConfig(
            file: file, station: station, lanes: lanes, wim: wim, cameras: cameras, httpListen: httpListen,
            rules: rules, storage: storage, signing: signing, caseSystem: caseSystem, console: console, recognizer: recognizer, calibrationProfile: calibrationProfile)
        config.replaySources = replaySources
        config.readLimits = readLimits
        config.connectionLimits = connectionLimits
        config.tlsListener = tlsListener
        return config
    }
}
