package register

// Interrupt makes r call f after each step of its work (see the step
// constants); an error from f stops the work there, as a crash would.
func Interrupt(r *Registrar, f func(step string) error) { r.interrupt = f }
