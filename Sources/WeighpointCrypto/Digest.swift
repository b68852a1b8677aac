// WeighpointCrypto owns the cryptography, through OpenSSL libcrypto: digests (SHA-256, SM3),
// signing keys and signatures (SM2, ECDSA P-256, Ed25519) and PIN hashing (PBKDF2). It holds no
// store and no record format; it may import only COpenSSL and Foundation.
import COpenSSL
import Foundation

/// A message digest computed through OpenSSL EVP (SHA-256, SM3).
public struct Digest: Sendable {
    public enum Algorithm: String, Sendable {
        case sha256
        case sm3
    }

    /// Hex digest of the file at `path`, read in 1 MiB chunks. Throws `DigestError` naming the file.
    public static func hexDigest(ofFileAt path: String, algorithm: Algorithm = .sha256) throws(DigestError) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw DigestError.cannotOpen(path) }
        defer { try? handle.close() }
        var hasher = try Hasher(algorithm)
        while true {
            let chunk: Data
            do {
                chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            } catch {
                throw DigestError.readFailed(path, "\(error)")
            }
            if chunk.isEmpty { break }
            try hasher.update(chunk)
        }
        return try hasher.finalizeHex()
    }

    /// Hex digest of `bytes`.
    public static func hexDigest(of bytes: some DataProtocol, algorithm: Algorithm = .sha256) throws(DigestError) -> String {
        var hasher = try Hasher(algorithm)
        try hasher.update(Data(bytes))
        return try hasher.finalizeHex()
    }

    /// One EVP_MD_CTX; not shared between threads.
    struct Hasher: ~Copyable {
        let ctx: OpaquePointer

        init(_ algorithm: Algorithm) throws(DigestError) {
            guard let ctx = EVP_MD_CTX_new() else { throw DigestError.openssl("EVP_MD_CTX_new") }
            let md = algorithm == .sha256 ? EVP_sha256() : EVP_sm3()
            guard EVP_DigestInit_ex(ctx, md, nil) == 1 else {
                EVP_MD_CTX_free(ctx)
                throw DigestError.openssl("EVP_DigestInit_ex(\(algorithm.rawValue))")
            }
            self.ctx = ctx
        }

        deinit { EVP_MD_CTX_free(ctx) }

        mutating func update(_ data: Data) throws(DigestError) {
            let ok = data.withUnsafeBytes { EVP_DigestUpdate(ctx, $0.baseAddress, $0.count) }
            guard ok == 1 else { throw DigestError.openssl("EVP_DigestUpdate") }
        }

        consuming func finalizeHex() throws(DigestError) -> String {
            var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var len: UInt32 = 0
            guard EVP_DigestFinal_ex(ctx, &out, &len) == 1 else { throw DigestError.openssl("EVP_DigestFinal_ex") }
            let hexDigits = Array("0123456789abcdef".utf8)
            var hex: [UInt8] = []
            for b in out.prefix(Int(len)) {
                hex.append(hexDigits[Int(b >> 4)])
                hex.append(hexDigits[Int(b & 0xF)])
            }
            return String(decoding: hex, as: UTF8.self)
        }
    }
}

/// A digest that could not be computed.
public enum DigestError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(String)
    case readFailed(String, String)
    case openssl(String)

    public var description: String {
        switch self {
        case .cannotOpen(let p): "cannot open \(p) for reading"
        case .readFailed(let p, let why): "reading \(p) failed: \(why)"
        case .openssl(let call): "OpenSSL \(call) failed"
        }
    }
}
