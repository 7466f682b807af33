//! Lets `cnn-bench` and its tests find libtorch at run time without `LD_LIBRARY_PATH`, as
//! `support`'s build does for `cnn`: an rpath to `$LIBTORCH/lib`.

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if let Ok(root) = std::env::var("LIBTORCH") {
        let lib = std::path::Path::new(&root).join("lib");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    }
}
