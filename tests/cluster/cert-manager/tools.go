// SPDX-License-Identifier: Apache-2.0
//go:build tools

// Package tools pins the cert-manager command this module builds: its controller (no webhook,
// no cainjector: the tests create valid objects and use a CA issuer).
package tools

import (
	_ "github.com/cert-manager/cert-manager/cmd/controller"
)
