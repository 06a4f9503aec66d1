fn main() {
    secretrun::main()
}
