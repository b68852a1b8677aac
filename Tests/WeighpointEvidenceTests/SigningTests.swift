import WeighpointCrypto
import Foundation
import Testing
import WeighpointTesting
@testable import WeighpointEvidence

@Suite struct SigningTests {
    let body = Array(#"{"schema":"weighpoint.record","seq":1,"plate":"苏A12345"}"#.utf8)

    @Test(arguments: SignatureAlgorithm.allCases)
    func ourSignaturesVerifyWithTheOpenSSLCommandLine(alg: SignatureAlgorithm) throws {
        let dir = try tempDir("sign-\(alg)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = try SigningKey.generate(alg)
        let paths = try key.write(to: dir.path)
        let attrs = try FileManager.default.attributesOfItem(atPath: paths.privatePath)
        #expect((attrs[.posixPermissions] as? NSNumber)?.intValue == 0o600, "private key is mode 0600")
        let sig = try key.sign(body)
        try Data(body).write(to: dir.appendingPathComponent("body.json"))
        try Data(sig).write(to: dir.appendingPathComponent("sig.der"))
        #expect(try opensslVerifies(alg.rawValue, pub: paths.publicPath, body: dir.appendingPathComponent("body.json").path, sig: dir.appendingPathComponent("sig.der").path))
        // One changed byte of the body fails.
        var tampered = body
        tampered[10] ^= 1
        try Data(tampered).write(to: dir.appendingPathComponent("body.json"))
        #expect(try !opensslVerifies(alg.rawValue, pub: paths.publicPath, body: dir.appendingPathComponent("body.json").path, sig: dir.appendingPathComponent("sig.der").path))
        #expect(!key.verify(sig, over: tampered))
        #expect(key.verify(sig, over: body))
    }

    @Test(arguments: SignatureAlgorithm.allCases)
    func openSSLCommandLineSignaturesVerifyInOurs(alg: SignatureAlgorithm) throws {
        let dir = try tempDir("cli-\(alg)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let keyPath = dir.appendingPathComponent("key.pem").path, pubPath = dir.appendingPathComponent("pub.pem").path
        let bodyPath = dir.appendingPathComponent("body.json").path, sigPath = dir.appendingPathComponent("sig").path
        switch alg {
        case .sm2: try runProcess(openssl, ["genpkey", "-algorithm", "SM2", "-out", keyPath])
        case .p256: try runProcess(openssl, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyPath])
        case .ed25519: try runProcess(openssl, ["genpkey", "-algorithm", "ED25519", "-out", keyPath])
        }
        try runProcess(openssl, ["pkey", "-in", keyPath, "-pubout", "-out", pubPath])
        try Data(body).write(to: URL(fileURLWithPath: bodyPath))
        let signed: ProcessResult
        switch alg {
        case .sm2: signed = try runProcess(openssl, ["dgst", "-sm3", "-sign", keyPath, "-sigopt", "distid:1234567812345678", "-out", sigPath, bodyPath])
        case .p256: signed = try runProcess(openssl, ["dgst", "-sha256", "-sign", keyPath, "-out", sigPath, bodyPath])
        case .ed25519: signed = try runProcess(openssl, ["pkeyutl", "-sign", "-inkey", keyPath, "-rawin", "-in", bodyPath, "-out", sigPath])
        }
        #expect(signed.status == 0, "\(signed.stderr)")
        let pub = try SigningKey.load(path: pubPath)
        #expect(pub.algorithm == alg)
        #expect(!pub.hasPrivateKey)
        let sig = Array(try Data(contentsOf: URL(fileURLWithPath: sigPath)))
        #expect(pub.verify(sig, over: body))
        #expect(try SigningKey.load(path: keyPath).keyID() == pub.keyID(), "key id is the public key's hash")
    }

    @Test func sm2WithAnotherDistinguishingIDFails() throws {
        let key = try SigningKey.generate(.sm2)
        let sig = try key.sign(body)
        let other = try SigningKey.load(pem: Data(try key.publicKeyPEM().utf8), source: "pub", distinguishingID: "ALICE123@YAHOO.COM")
        #expect(!other.verify(sig, over: body))
        let same = try SigningKey.load(pem: Data(try key.publicKeyPEM().utf8), source: "pub")
        #expect(same.verify(sig, over: body))
    }

    @Test func sm2SignatureWithAnEmptyIDDoesNotPassAsTheDefault() throws {
        // What OpenSSL 3.0 does when no ID is given: sign with an empty ID. Ours must not accept that.
        let dir = try tempDir("sm2-empty")
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = try SigningKey.generate(.sm2)
        let paths = try key.write(to: dir.path)
        let bodyPath = dir.appendingPathComponent("b").path, sigPath = dir.appendingPathComponent("s").path
        try Data(body).write(to: URL(fileURLWithPath: bodyPath))
        try runProcess(openssl, ["dgst", "-sm3", "-sign", paths.privatePath, "-out", sigPath, bodyPath])
        #expect(!key.verify(Array(try Data(contentsOf: URL(fileURLWithPath: sigPath))), over: body))
    }

    @Test func wrongKeyFails() throws {
        let a = try SigningKey.generate(.p256), b = try SigningKey.generate(.p256)
        #expect(!b.verify(try a.sign(body), over: body))
        #expect(try a.keyID() != b.keyID())
    }

    @Test func errorsNeverCarryKeyMaterial() throws {
        let key = try SigningKey.generate(.ed25519)
        let pem = try key.privateKeyPEM()
        let secretLine = pem.split(separator: "\n")[1]
        var broken = pem
        broken = broken.replacingOccurrences(of: String(secretLine.prefix(10)), with: "!!!!!!!!!!")
        do {
            _ = try SigningKey.load(pem: Data(broken.utf8), source: "broken.pem")
            Issue.record("loaded a broken key")
        } catch {
            #expect(error.description.contains("broken.pem"))
            #expect(!error.description.contains(String(secretLine.dropFirst(10).prefix(12))))
        }
        let dir = try tempDir("twice")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try key.write(to: dir.path)
        #expect(throws: SigningError.self) { try key.write(to: dir.path) }
    }
}
