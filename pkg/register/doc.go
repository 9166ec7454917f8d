// Package register is the registrar: it reads a preprocessed product from the
// output store (normalised metadata and COG header), registers it in the
// registry in one transaction, and asks the seeder to seed its interval.
package register
