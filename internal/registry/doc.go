// Package registry is the case-insensitive name → factory table behind
// dialplan applications (internal/app) and functions (internal/function):
// filled by init functions, read when an engine is built.
package registry
