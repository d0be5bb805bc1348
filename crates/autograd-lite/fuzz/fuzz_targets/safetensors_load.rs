//! Any bytes into `Mlp::from_safetensors` (what `--init-weights`, `trainer eval` and `--resume`
//! read): it must return an error or a model whose shapes are consistent, whose parameters the
//! input actually holds, and which saves and reloads bit for bit; it must never panic and never
//! allocate from a size the input does not justify (run with `-malloc_limit_mb`).
#![no_main]

use autograd_lite::Mlp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mlp) = Mlp::from_safetensors(data) else {
        return;
    };
    let (i, h, c) = (mlp.inputs(), mlp.hidden(), mlp.classes());
    assert!(i > 0 && h > 0 && c > 0, "a zero dimension was accepted");
    assert_eq!(
        mlp.param_shapes(),
        [vec![h, i], vec![h], vec![c, h], vec![c]]
    );
    let floats: usize = mlp.params().iter().map(|p| p.len()).sum();
    assert_eq!(floats, h * i + h + c * h + c);
    assert!(
        4 * floats <= data.len(),
        "more parameters than the file holds bytes"
    );
    // Saving and loading again gives the same bits (NaN payloads included).
    let again = Mlp::from_safetensors(&mlp.to_safetensors()).expect("a saved model loads");
    for (a, b) in mlp.params().iter().zip(again.params()) {
        assert!(a
            .iter()
            .map(|v| v.to_bits())
            .eq(b.iter().map(|v| v.to_bits())));
    }
});
