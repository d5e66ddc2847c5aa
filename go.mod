module github.com/paykit/paykit

go 1.24.0

require (
	github.com/go-resty/resty/v2 v2.17.2
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/jarcoal/httpmock v1.4.2
	golang.org/x/sync v0.18.0
	golang.org/x/time v0.14.0
)

require golang.org/x/net v0.43.0 // indirect
