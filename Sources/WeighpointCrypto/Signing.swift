import COpenSSL
import Foundation

/// Signature algorithms a deployment may choose (DESIGN.md).
public enum SignatureAlgorithm: String, Sendable, CaseIterable {
    /// SM2 with SM3 (GM/T 0003/0004), distinguishing ID passed explicitly.
    case sm2
    /// ECDSA on P-256 with SHA-256.
    case p256
    /// Ed25519 (pure, no pre-hash).
    case ed25519

    /// The digest name EVP signs with; nil for Ed25519.
    var digestName: String? {
        switch self {
        case .sm2: "SM3"
        case .p256: "SHA256"
        case .ed25519: nil
        }
    }

    /// The `alg` field of envelopes.
    public var envelopeName: String {
        switch self {
        case .sm2: "SM2-SM3"
        case .p256: "ECDSA-P256-SHA256"
        case .ed25519: "Ed25519"
        }
    }

    public init?(envelopeName: String) {
        guard let a = Self.allCases.first(where: { $0.envelopeName == envelopeName }) else { return nil }
        self = a
    }
}

/// The GM/T 0009 default SM2 distinguishing ID.
public let defaultSM2DistinguishingID = "1234567812345678"

/// A failed key or signature operation. Never carries key material: only the operation, the
/// file involved and OpenSSL's reason code text.
public struct SigningError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let reason: String
    public var description: String { "\(operation): \(reason)" }

    static func openssl(_ operation: String) -> SigningError {
        let code = ERR_get_error()
        var buf = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buf, buf.count)
        ERR_clear_error()
        return SigningError(operation: operation, reason: code == 0 ? "failed" : String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}

/// An OpenSSL key (private or public only). The EVP_PKEY is freed with the object; OpenSSL
/// keys are safe to use from several threads for signing and verifying.
public final class SigningKey: @unchecked Sendable {
    let pkey: OpaquePointer
    public let algorithm: SignatureAlgorithm
    /// SM2 distinguishing ID used when signing and verifying.
    public let distinguishingID: String
    public let hasPrivateKey: Bool

    init(pkey: OpaquePointer, hasPrivateKey: Bool, distinguishingID: String, source: String) throws(SigningError) {
        self.pkey = pkey
        self.hasPrivateKey = hasPrivateKey
        self.distinguishingID = distinguishingID
        if EVP_PKEY_is_a(pkey, "SM2") == 1 {
            algorithm = .sm2
        } else if EVP_PKEY_is_a(pkey, "ED25519") == 1 {
            algorithm = .ed25519
        } else if EVP_PKEY_is_a(pkey, "EC") == 1, EVP_PKEY_get_bits(pkey) == 256 {
            algorithm = .p256
        } else {
            EVP_PKEY_free(pkey)
            throw SigningError(operation: "load \(source)", reason: "not an SM2, P-256 or Ed25519 key")
        }
    }

    deinit { EVP_PKEY_free(pkey) }

    /// Generates a new key pair.
    public static func generate(_ algorithm: SignatureAlgorithm, distinguishingID: String = defaultSM2DistinguishingID) throws(SigningError) -> SigningKey {
        let name = switch algorithm {
        case .sm2: "SM2"
        case .p256: "P-256"
        case .ed25519: "ED25519"
        }
        guard let pkey = wp_keygen(name) else { throw SigningError.openssl("generate \(algorithm.rawValue) key") }
        return try SigningKey(pkey: pkey, hasPrivateKey: true, distinguishingID: distinguishingID, source: "generated key")
    }

    /// Loads a PEM private key (PKCS#8) or public key (SubjectPublicKeyInfo).
    public static func load(pem: Data, source: String, distinguishingID: String = defaultSM2DistinguishingID) throws(SigningError) -> SigningKey {
        let text = String(decoding: pem, as: UTF8.self)
        let isPrivate = text.contains("PRIVATE KEY")
        let pkey: OpaquePointer? = pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return isPrivate ? PEM_read_bio_PrivateKey(bio, nil, nil, nil) : PEM_read_bio_PUBKEY(bio, nil, nil, nil)
        }
        guard let pkey else { throw SigningError.openssl("read \(isPrivate ? "private" : "public") key from \(source)") }
        return try SigningKey(pkey: pkey, hasPrivateKey: isPrivate, distinguishingID: distinguishingID, source: source)
    }

    public static func load(path: String, distinguishingID: String = defaultSM2DistinguishingID) throws(SigningError) -> SigningKey {
        guard let data = FileManager.default.contents(atPath: path) else { throw SigningError(operation: "read key \(path)", reason: "cannot read the file") }
        return try load(pem: data, source: path, distinguishingID: distinguishingID)
    }

    /// The public key as PEM (SubjectPublicKeyInfo).
    public func publicKeyPEM() throws(SigningError) -> String {
        try pem { PEM_write_bio_PUBKEY($0, pkey) }
    }

    /// The private key as PKCS#8 PEM, unencrypted (files holding it are mode 0600).
    public func privateKeyPEM() throws(SigningError) -> String {
        guard hasPrivateKey else { throw SigningError(operation: "write private key", reason: "this is a public key") }
        return try pem { PEM_write_bio_PrivateKey($0, pkey, nil, nil, 0, nil, nil) }
    }

    private func pem(_ write: (OpaquePointer) -> Int32) throws(SigningError) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw SigningError.openssl("allocate BIO") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw SigningError.openssl("write PEM") }
        var ptr: UnsafeMutablePointer<CChar>?
        let n = wp_bio_mem_data(bio, &ptr)
        guard let ptr, n > 0 else { throw SigningError.openssl("read PEM") }
        return String(decoding: UnsafeRawBufferPointer(start: ptr, count: n), as: UTF8.self)
    }

    /// DER SubjectPublicKeyInfo of the public key.
    public func publicKeyDER() throws(SigningError) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        let n = i2d_PUBKEY(pkey, &out)
        guard n > 0, let out else { throw SigningError.openssl("encode public key") }
        defer { CRYPTO_free(out, #fileID, #line) }
        return Array(UnsafeBufferPointer(start: out, count: Int(n)))
    }

    /// Key id: hex SHA-256 of the DER public key; travels with every signature.
    public func keyID() throws(SigningError) -> String {
        do {
            return try Digest.hexDigest(of: try publicKeyDER())
        } catch let e as DigestError {
            throw SigningError(operation: "key id", reason: e.description)
        } catch let e as SigningError {
            throw e
        } catch {
            throw SigningError(operation: "key id", reason: "\(error)")
        }
    }

    /// Signs `message`: DER for SM2 and ECDSA, 64 raw bytes for Ed25519.
    public func sign(_ message: [UInt8]) throws(SigningError) -> [UInt8] {
        guard hasPrivateKey else { throw SigningError(operation: "sign", reason: "only a public key is loaded") }
        var sig = [UInt8](repeating: 0, count: 160)
        var len = sig.count
        let id = Array(distinguishingID.utf8)
        let ok = message.withUnsafeBufferPointer { m in
            id.withUnsafeBufferPointer { idp in
                withDigestName { md in
                    wp_sign(pkey, md, algorithm == .sm2 ? idp.baseAddress : nil, id.count, m.baseAddress, m.count, &sig, &len)
                }
            }
        }
        guard ok == 1 else { throw SigningError.openssl("sign with \(algorithm.rawValue)") }
        return Array(sig.prefix(len))
    }

    /// True when `signature` is valid for `message` under this key.
    public func verify(_ signature: [UInt8], over message: [UInt8]) -> Bool {
        let id = Array(distinguishingID.utf8)
        let ok = message.withUnsafeBufferPointer { m in
            signature.withUnsafeBufferPointer { s in
                id.withUnsafeBufferPointer { idp in
                    withDigestName { md in
                        wp_verify(pkey, md, algorithm == .sm2 ? idp.baseAddress : nil, id.count, m.baseAddress, m.count, s.baseAddress, s.count)
                    }
                }
            }
        }
        return ok == 1
    }

    private func withDigestName<T>(_ body: (UnsafePointer<CChar>?) -> T) -> T {
        guard let name = algorithm.digestName else { return body(nil) }
        return name.withCString { body($0) }
    }

    /// Writes `key.pem` (mode 0600) and `pub.pem` into `directory`; refuses to overwrite a key.
    public func write(to directory: String) throws(SigningError) -> (privatePath: String, publicPath: String) {
        let keyPath = directory + "/key.pem", pubPath = directory + "/pub.pem"
        guard !FileManager.default.fileExists(atPath: keyPath) else {
            throw SigningError(operation: "write \(keyPath)", reason: "a key is already there; move it away first")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SigningError(operation: "create \(directory)", reason: "\(error)")
        }
        let privatePEM = try privateKeyPEM()
        let fd = open(keyPath, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw SigningError(operation: "create \(keyPath)", reason: String(cString: strerror(errno))) }
        let bytes = Array(privatePEM.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        guard written == bytes.count else { throw SigningError(operation: "write \(keyPath)", reason: "short write") }
        do {
            try (try publicKeyPEM()).write(toFile: pubPath, atomically: true, encoding: .utf8)
        } catch let e as SigningError {
            throw e
        } catch {
            throw SigningError(operation: "write \(pubPath)", reason: "\(error)")
        }
        return (keyPath, pubPath)
    }
}
