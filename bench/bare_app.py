"""The baseline for bench/webhook.py: a bare Flask endpoint returning a fixed TwiML reply."""

from flask import Flask, Response

app = Flask(__name__)
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Hello!</Message></Response>'


@app.post("/webhooks/twilio/messages")
def reply() -> Response:
    return Response(TWIML, mimetype="application/xml")
