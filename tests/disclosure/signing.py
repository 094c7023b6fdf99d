"""A court CA made in the test (cryptography), a judge's certificate under it, and PDFs
signed with pyHanko's signer. Made-up names only; nothing here is a real key."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

DER = serialization.Encoding.DER


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=not ca, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


@dataclass
class CourtCA:
    ca: x509.Certificate
    judge: x509.Certificate
    judge_key: ec.EllipticCurvePrivateKey

    @classmethod
    def make(cls, name: str = "Test Court CA") -> CourtCA:
        now = dt.datetime.now(dt.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
              .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
              .add_extension(_usage(ca=True), critical=True)
              .sign(ca_key, hashes.SHA256()))
        key = ec.generate_private_key(ec.SECP256R1())
        judge = (x509.CertificateBuilder().subject_name(_name("Hon. Test Judge")).issuer_name(ca.subject)
                 .public_key(key.public_key()).serial_number(x509.random_serial_number())
                 .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365))
                 .add_extension(_usage(ca=False), critical=True)
                 .sign(ca_key, hashes.SHA256()))
        return cls(ca, judge, key)

    def write_ca(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "court-ca.pem"
        path.write_bytes(self.ca.public_bytes(serialization.Encoding.PEM))
        return folder

    def sign(self, pdf: bytes) -> bytes:
        signer = signers.SimpleSigner(
            signing_cert=asn1_x509.Certificate.load(self.judge.public_bytes(DER)),
            signing_key=asn1_keys.PrivateKeyInfo.load(self.judge_key.private_bytes(
                DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
            cert_registry=SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(self.ca.public_bytes(DER))]),
        )
        out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)),
                               signers.PdfSignatureMetadata(field_name="Signature1"), signer=signer)
        return out.getvalue()


def tamper(signed: bytes, marker: bytes = b"Test Person A") -> bytes:
    """The same file with one byte changed inside the signed content."""
    at = signed.index(marker)
    return signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1:]


def encrypt(pdf: bytes) -> bytes:
    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(pdf)))
    writer.encrypt(owner_pass=b"owner-test", user_pass=b"user-test")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
