"""The e-mail bytes we write by hand read back as the standard library's parser expects, and
nothing a user typed can add a header."""
import email
from email.policy import default

from lms.notifications import mime


def parse(data: bytes):
    return email.message_from_bytes(data, policy=default)


def test_a_message_reads_back_with_both_parts_and_its_headers():
    subject = "「ゲームデザイン基礎」の成績が公開されました — " + "長い題名" * 20
    data = mime.build(from_header=mime.sender("Kakehashi <no-reply@kakehashi.test>")[1],
                      to=mime.address("Аziz Каримов", "aziz@example.test"), subject=subject,
                      message_id="<notification-7@kakehashi.test>", text="Привет\n", html="<p>こんにちは</p>",
                      headers={"List-Unsubscribe": "<https://lms.test/unsubscribe/7-x.sig>"})
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    message = parse(data)
    assert message["Subject"] == subject
    assert message["To"].addresses[0].display_name == "Аziz Каримов"
    assert message["Message-ID"] == "<notification-7@kakehashi.test>"
    assert message.get_body(("plain",)).get_content() == "Привет\n"
    assert message.get_body(("html",)).get_content() == "<p>こんにちは</p>"
    assert message["List-Unsubscribe"] == "<https://lms.test/unsubscribe/7-x.sig>"


def test_line_breaks_in_a_title_or_name_cannot_add_headers():
    data = mime.build(from_header="Kakehashi <no-reply@kakehashi.test>",
                      to=mime.address("Eve\r\nBcc: all@example.test", "eve@example.test"),
                      subject="Hi\r\nBcc: everyone@example.test", message_id="<n-1@x>", text="t", html="h")
    message = parse(data)
    assert message["Bcc"] is None
    assert "\n" not in message["Subject"] and "everyone@example.test" in message["Subject"]
