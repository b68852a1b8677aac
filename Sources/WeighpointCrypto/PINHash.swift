import COpenSSL
import Foundation

/// A technician's PIN as configuration holds it: PBKDF2-HMAC-SHA256 (OpenSSL) with a random salt
/// and an iteration count that makes guessing slow, written `pbkdf2-sha256$ITERATIONS$SALT$HASH`
/// (salt and hash in base64). The PIN itself is never stored, logged or echoed.
public struct PINHash: Sendable, Equatable, CustomStringConvertible {
    public static let scheme = "pbkdf2-sha256"
    /// What `weighpoint console hash-pin` uses: ≈ 0.3 s per try on a small x86 box.
    public static let defaultIterations = 600_000
    /// Fewer iterations than this are refused in configuration: too fast to guess.
    public static let minimumIterations = 10_000

    public let iterations: Int
    public let salt: [UInt8]
    public let hash: [UInt8]

    public enum ParseError: Error, CustomStringConvertible, Equatable {
        case format
        case weak(Int)
        public var description: String {
            switch self {
            case .format: "not a PIN hash: expected \(PINHash.scheme)$ITERATIONS$SALT$HASH (make one with `weighpoint console hash-pin`)"
            case .weak(let n): "\(n) iterations is too few (at least \(PINHash.minimumIterations))"
            }
        }
    }

    /// Parses the configuration form.
    public init(parsing text: String) throws(ParseError) {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == Self.scheme, let n = Int(parts[1]), n > 0,
            let salt = Data(base64Encoded: String(parts[2])), salt.count >= 8,
            let hash = Data(base64Encoded: String(parts[3])), hash.count == 32
        else { throw .format }
        guard n >= Self.minimumIterations else { throw .weak(n) }
        iterations = n
        self.salt = Array(salt)
        self.hash = Array(hash)
    }

    /// Hashes a new PIN with a fresh random salt.
    public init(pin: String, iterations: Int = defaultIterations) {
        var salt = [UInt8](repeating: 0, count: 16)
        precondition(RAND_bytes(&salt, 16) == 1, "OpenSSL RAND_bytes failed")
        self.iterations = iterations
        self.salt = salt
        hash = Self.derive(pin, salt: salt, iterations: iterations)
    }

    public var description: String {
        "\(Self.scheme)$\(iterations)$\(Data(salt).base64EncodedString())$\(Data(hash).base64EncodedString())"
    }

    /// Whether `pin` is the PIN; compares in constant time.
    public func matches(_ pin: String) -> Bool {
        let candidate = Self.derive(pin, salt: salt, iterations: iterations)
        return candidate.count == hash.count && CRYPTO_memcmp(candidate, hash, hash.count) == 0
    }

    /// PBKDF2-HMAC-SHA256 of `pin` (32 bytes). Public so that a login for an unknown name can
    /// spend the same time as one for a known name.
    public static func derive(_ pin: String, salt: [UInt8], iterations: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let pinBytes = Array(pin.utf8)
        let ok = pinBytes.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { c in
                PKCS5_PBKDF2_HMAC(c.baseAddress, Int32(c.count), salt, Int32(salt.count), Int32(iterations), EVP_sha256(), 32, &out)
            }
        }
        precondition(ok == 1, "OpenSSL PKCS5_PBKDF2_HMAC failed")
        return out
    }
}
