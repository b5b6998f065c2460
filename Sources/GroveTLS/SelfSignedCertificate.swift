import Crypto
import Foundation
import X509

/// The router's fallback certificate for `https://` routes no user certificate covers.
public enum SelfSignedCertificate {
    /// A P-256 certificate for `names`, valid for a year; PEM certificate and PEM private key.
    public static func generate(commonName: String, names: [String], now: Date = Date()) throws -> (certificate: String, key: String) {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("Grove")
            CommonName(commonName)
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames(names.map { GeneralName.dnsName($0) })
        }
        let cert = try Certificate(version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
                                   notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(365 * 86_400),
                                   issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
                                   extensions: extensions, issuerPrivateKey: .init(key))
        return (try cert.serializeAsPEM().pemString, key.pemRepresentation)
    }
}
