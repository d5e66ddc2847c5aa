package paykit

// Version is paykit's version, sent in the User-Agent of every request.
const Version = "0.1.0"
