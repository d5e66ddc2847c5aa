package main

import "html/template"

// pages are the shop's pages: plain HTML forms and links, no JavaScript. An order page that
// waits for its payment reloads itself every second.
var pages = template.Must(template.New("shop").Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>paykit demo shop</title>
{{if .Refresh}}<meta http-equiv="refresh" content="1">{{end}}
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;color:#222}
header a{margin-right:1em}table{border-collapse:collapse;width:100%}
td,th{padding:.3em;text-align:left;border-bottom:1px solid #eee}
button,.button{font-size:1em;padding:.4em 1em;border-radius:6px;border:0;background:#146;color:#fff;text-decoration:none;display:inline-block}
.state{font-size:1.4em;font-weight:bold}.paid{color:#080}.muted{color:#666;font-size:.9em}
code{word-break:break-all}</style></head>
<body><header><a href="/"><strong>paykit demo shop</strong></a><a href="/cart" id="cart-link">Cart</a></header>{{end}}
{{define "foot"}}<p class="muted">Payments through a paykit.Router: SEK → Ecster, INR → EchelonPay, EUR and ECS → eCredits, EC → Entrecard.</p></body></html>{{end}}

{{define "catalogue"}}{{template "head" .}}
<h1>Products</h1>
{{if .Notice}}<p>{{.Notice}}</p>{{end}}
<table>{{range .Products}}<tr><td>{{.Name}}</td><td>{{.Price}}</td>
<td><form method="post" action="/cart"><input type="hidden" name="product" value="{{.ID}}">
<button id="buy-{{.ID}}" type="submit">Add to cart</button></form></td></tr>{{end}}</table>
{{template "foot" .}}{{end}}

{{define "cart"}}{{template "head" .}}
<h1>Cart</h1>
{{if .Lines}}<table><tr><th>Item</th><th>Qty</th><th>Price</th></tr>
{{range .Lines}}<tr><td>{{.Product.Name}}</td><td>{{.Quantity}}</td><td>{{.Total}}</td></tr>{{end}}
<tr><th colspan="2">Total</th><th id="total">{{.Total}}</th></tr></table>
<p class="muted">Paid with: {{.Providers}}</p>
<form method="post" action="/checkout"><button id="checkout" type="submit">Check out</button></form>
{{else}}<p>Your cart is empty. <a href="/">Products</a></p>{{end}}
{{template "foot" .}}{{end}}

{{define "pay"}}{{template "head" .}}
<h1>Pay for order <code id="order-id">{{.Order.ID}}</code></h1>
<p>{{.Order.Amount}} with <strong id="provider">{{.Order.Provider}}</strong></p>
{{with .Action}}
{{if eq .Type "qr_code"}}
<p>Scan the code with the eCredits eWallet app:</p>
<img id="qr" src="{{$.QR}}" width="256" height="256" alt="QR code">
<p class="muted">QR code text: <code id="qr-text">{{.QRCode}}</code></p>
<p>{{if $.Wallet}}<a class="button" id="open-wallet" href="{{$.Wallet}}">Open the wallet</a>{{else}}<a class="button" id="open-wallet" href="{{.URL}}">Open the wallet</a>{{end}}</p>
{{else if eq .Type "redirect"}}
<p><a class="button" id="go-pay" href="{{.URL}}">Go to {{$.Order.Provider}} to pay</a></p>
{{else if eq .Type "client_token"}}
{{if eq $.Order.Provider "ecster"}}<p>Ecster checkout, cart key <code id="token">{{.Token}}</code></p>
{{else}}<p>EchelonPay web app token <code id="token" class="muted">{{.Token}}</code></p>{{end}}
{{if $.Checkout}}<p><a class="button" id="go-pay" href="{{$.Checkout}}">Pay with {{$.Order.Provider}}</a></p>
{{else}}<p class="muted">Hand the token to the provider's script.</p>{{end}}
{{else if eq .Type "bank_transfer"}}{{with .Transfer}}
<p>Transfer <strong>{{.Amount}}</strong> to</p>
<table><tr><td>Bank</td><td>{{.BankName}} {{.BranchName}}</td></tr>
<tr><td>Account</td><td id="account">{{.AccountNumber}}</td></tr>
<tr><td>Reference</td><td id="reference">{{.Reference}}</td></tr></table>{{end}}
{{end}}
{{else}}<p>Nothing to do: the payment is {{.Order.Payment.Status}}.</p>{{end}}
<p><a href="{{.OrderURL}}" id="order-link">Order status</a></p>
{{template "foot" .}}{{end}}

{{define "order"}}{{template "head" .}}
<h1>Order <code id="order-id">{{.Order.ID}}</code></h1>
<p class="state {{if eq .Order.State "paid"}}paid{{end}}" id="state">{{.Order.State}}</p>
<table>{{range .Order.Lines}}<tr><td>{{.Product.Name}}</td><td>{{.Quantity}}</td><td>{{.Total}}</td></tr>{{end}}
<tr><th colspan="2">Total, with {{.Order.Provider}}</th><th>{{.Order.Amount}}</th></tr></table>
{{if .Pending}}<p><a href="/orders/{{.Order.ID}}/pay" id="pay-link">Pay</a> <span class="muted">(this page reloads until the provider's notification arrives)</span></p>{{end}}
{{if .Order.Events}}<h2>Notifications</h2><ul id="events">{{range .Order.Events}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{template "foot" .}}{{end}}

{{define "error"}}{{template "head" .}}
<h1>The payment could not be created</h1><p id="error">{{.Error}}</p><p><a href="/cart">Back to the cart</a></p>
{{template "foot" .}}{{end}}
`))
