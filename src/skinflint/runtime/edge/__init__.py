"""The HTTP edge of `skinflint serve`: a bounded HTTP/1.1 server (http), what arrives on the
wire (wire), the Open Inference Protocol (oip), skinflint's own API (v1) and the routes (app)."""
