// Package register is the registrar: it reads a preprocessed product from the
// output store (normalised metadata and COG header), registers it in the
// registry in one transaction, announces it to the caches and asks the
// seeder to seed its interval. Every step may be done again, so a redelivered
// registration or deregistration finishes whatever an interrupted one left.
package register
