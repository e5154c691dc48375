//! `tokenize_hf`: text → `input_ids` (int64), `attention_mask` (int8) and `token_type_ids`
//! (int8), each `(N, max_seq_length)`, with a local Hugging Face tokenizer.
//!
//! What (GraphStorm's `Tokenizer` transform): every value is tokenized on its own exactly like
//! `tokenizer(text, truncation=True, padding='max_length', max_length=L)` of a
//! `transformers` fast tokenizer: special tokens added by the tokenizer's post-processor
//! (`[CLS] … [SEP]` for BERT), longest-first truncation to `L` tokens (special tokens
//! included), then padding to exactly `L` with the pad token (`pad_token` of
//! `tokenizer_config.json`, else the padding config of `tokenizer.json`, else `[PAD]`), pad type
//! id 0 and attention mask 0. Padding and truncation sides come from `tokenizer_config.json`
//! (default right), as `AutoTokenizer` reads them. The output names are fixed (not prefixed by
//! `feature_name`); `feature_dim` is `[hidden_size]` of the model's `config.json` next to the
//! tokenizer, as GraphStorm writes; without that file it is `[max_seq_length]`, with a warning.
//!
//! The tokenizer is the Rust `tokenizers` crate (the library behind `transformers`' fast
//! tokenizers) reading the same `tokenizer.json`; `bert_model` was resolved to local files when
//! the plan was built (`config::hf_model`), nothing is downloaded.
//!
//! Deviations: `token_type_ids` are always the tokenizer's type ids (GraphStorm writes zeros for
//! models whose tokenizer class does not return them, e.g. RoBERTa — whose type ids are all 0
//! for a single text anyway); `max_seq_length` smaller than the number of special tokens is a
//! config error, raised when the plan is built (GraphStorm silently produces rows longer than
//! `max_seq_length` and then fails to stack them); a missing value is an error naming file/row/column (GraphStorm: assertion
//! "The input of the tokenizer has to be a string").
//!
//! Memory: the three outputs (10 bytes per token slot: N·L·(8+1+1)) plus one `Encoding` per
//! busy thread.
//!
//! Parallelism: slices of rows in parallel on the ambient rayon pool, each writing its own rows
//! of the preallocated outputs; the result does not depend on the thread count.

use arrow::array::{Array, ArrayRef};
use tokenizers::{
    PaddingDirection, PaddingParams, PaddingStrategy, PostProcessor, Tokenizer,
    TruncationDirection, TruncationParams, TruncationStrategy,
};

use super::column::{normalize, StrCol};
use super::Part;
use crate::config::plan::{FeatureSpec, HfTokenizer, TOKENIZE_OUTPUTS};
use crate::error::{Error, Result};
use crate::graph::NamedTensor;

/// The result of `tokenize_hf`.
pub(crate) struct TokenizeOut {
    /// `input_ids`, `attention_mask`, `token_type_ids`.
    pub tensors: Vec<NamedTensor>,
    pub feature_dim: Vec<usize>,
}

/// Loads the tokenizer with HF's `truncation=True, padding='max_length', max_length=L`.
pub(crate) fn load(model: &HfTokenizer, max_len: usize) -> Result<Tokenizer> {
    let file = &model.tokenizer_file;
    let mut tok = Tokenizer::from_file(file).map_err(|e| {
        Error::input(
            file,
            format!("cannot load the tokenizer (expected a Hugging Face tokenizer.json): {e}"),
        )
    })?;
    debug_assert!(
        max_len
            >= tok
                .get_post_processor()
                .map_or(0, |p| p.added_tokens(false)),
        "max_seq_length below the special tokens is rejected when the plan is built"
    );
    let pad_token = model
        .pad_token
        .clone()
        .or_else(|| tok.get_padding().map(|p| p.pad_token.clone()))
        .unwrap_or_else(|| "[PAD]".to_string());
    let pad_id = tok.token_to_id(&pad_token).ok_or_else(|| {
        Error::input(
            file,
            format!(
                "the pad token {pad_token:?} is not in the tokenizer's vocabulary; set \
                 \"pad_token\" in tokenizer_config.json next to it"
            ),
        )
    })?;
    tok.with_truncation(Some(TruncationParams {
        direction: if model.truncate_left {
            TruncationDirection::Left
        } else {
            TruncationDirection::Right
        },
        max_length: max_len,
        strategy: TruncationStrategy::LongestFirst,
        stride: 0,
    }))
    .map_err(|e| Error::input(file, format!("cannot set truncation: {e}")))?;
    tok.with_padding(Some(PaddingParams {
        strategy: PaddingStrategy::Fixed(max_len),
        direction: if model.pad_left {
            PaddingDirection::Left
        } else {
            PaddingDirection::Right
        },
        pad_to_multiple_of: None,
        pad_id,
        pad_type_id: 0,
        pad_token,
    }));
    Ok(tok)
}

/// Column `c` (named `column`) of a slice as a text array, or an error naming `transform`.
pub(super) fn text_column(
    f: &Part<'_>,
    c: usize,
    column: &str,
    transform: &str,
) -> Result<ArrayRef> {
    let loc = f.loc(column);
    let a = normalize(&f.columns[c], &loc)?;
    if StrCol::new(a.as_ref()).is_none() {
        return Err(loc.err(
            0,
            format!(
                "{transform} needs a text column (one string per row), got {}",
                a.data_type()
            ),
        ));
    }
    Ok(a)
}

/// Tokenizes row `r` of a text column; a missing value is an error naming `transform`.
pub(super) fn encode_row(
    tok: &Tokenizer,
    strings: &StrCol<'_>,
    loc: &super::column::Loc<'_>,
    r: usize,
    transform: &str,
) -> Result<tokenizers::Encoding> {
    let text = strings.get(r).ok_or_else(|| {
        loc.err(
            r,
            format!(
                "missing value; {transform} needs a string in every row (an empty CSV field is \
                 a missing value)"
            ),
        )
    })?;
    tok.encode(text, true)
        .map_err(|e| loc.err(r, format!("tokenization failed: {e}")))
}

/// Computes `tokenize_hf` for a single-column feature over all slices of a block.
pub(crate) fn compute(
    spec: &FeatureSpec,
    files: &[Part<'_>],
    rows: &[usize],
    model: &HfTokenizer,
    max_len: usize,
    ctx: &super::FeatureCtx<'_>,
) -> Result<TokenizeOut> {
    debug_assert_eq!(spec.columns.len(), 1, "checked when the plan is built");
    let tok = load(model, max_len)?;
    let column = &spec.columns[0];
    let arrays: Vec<ArrayRef> = files
        .iter()
        .map(|f| text_column(f, 0, column, "tokenize_hf"))
        .collect::<Result<_>>()?;

    let total: usize = rows.iter().sum();
    let [n_ids, n_mask, n_types] = TOKENIZE_OUTPUTS;
    let mut ids = ctx.alloc(total, max_len, 0i64, n_ids)?;
    let mut mask = ctx.alloc(total, max_len, 0i8, n_mask)?;
    let mut types = ctx.alloc(total, max_len, 0i8, n_types)?;
    // One tokenization: token IDs go straight into their buffer, the (8× smaller) masks of each
    // block are kept aside and copied into theirs afterwards.
    let side: Vec<std::sync::Mutex<(Vec<i8>, Vec<i8>)>> =
        rows.iter().map(|_| Default::default()).collect();
    ids.fill_blocks(rows, max_len, |i, ids| {
        let (part, arr) = (&files[i], &arrays[i]);
        let loc = part.loc(column);
        let strings = StrCol::new(arr.as_ref()).ok_or_else(|| loc.err(0, "not text"))?;
        let mut mask = vec![0i8; ids.len()];
        let mut types = vec![0i8; ids.len()];
        for r in 0..arr.len() {
            let enc = encode_row(&tok, &strings, &loc, r, "tokenize_hf")?;
            if enc.get_ids().len() != max_len {
                return Err(loc.err(
                    r,
                    format!(
                        "the tokenizer produced {} tokens instead of max_seq_length {max_len}",
                        enc.get_ids().len()
                    ),
                ));
            }
            let o = r * max_len..(r + 1) * max_len;
            for (d, &s) in ids[o.clone()].iter_mut().zip(enc.get_ids()) {
                *d = s as i64;
            }
            for (d, &s) in mask[o.clone()].iter_mut().zip(enc.get_attention_mask()) {
                *d = s as i8;
            }
            for (d, &s) in types[o].iter_mut().zip(enc.get_type_ids()) {
                *d = s as i8;
            }
        }
        *side[i].lock().expect("mask lock") = (mask, types);
        Ok(())
    })?;
    mask.fill_blocks(rows, max_len, |i, b| {
        b.copy_from_slice(&side[i].lock().expect("mask lock").0);
        Ok(())
    })?;
    types.fill_blocks(rows, max_len, |i, b| {
        b.copy_from_slice(&std::mem::take(&mut *side[i].lock().expect("mask lock")).1);
        Ok(())
    })?;

    let feature_dim = match model.hidden_size {
        Some(h) => vec![h],
        None => {
            log::warn!(
                "{}: no hidden_size in a config.json next to {}; feature_dim is written as \
                 [max_seq_length] = [{max_len}] (GraphStorm writes the model's hidden size)",
                spec.json_path,
                model.tokenizer_file.display()
            );
            vec![max_len]
        }
    };
    let shape = vec![total, max_len];
    Ok(TokenizeOut {
        tensors: vec![
            NamedTensor {
                name: n_ids.into(),
                tensor: ids.into_tensor(shape.clone())?,
            },
            NamedTensor {
                name: n_mask.into(),
                tensor: mask.into_tensor(shape.clone())?,
            },
            NamedTensor {
                name: n_types.into(),
                tensor: types.into_tensor(shape)?,
            },
        ],
        feature_dim,
    })
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use arrow::array::StringArray;

    use super::*;
    use crate::config::plan::Transform;
    use crate::features::{compute_feature, FeatureCtx, FileColumns};

    /// The tiny BERT-style WordPiece tokenizer of `tests/fixtures/tiny-bert` (32 tokens:
    /// `[PAD]`=0 `[UNK]`=1 `[CLS]`=2 `[SEP]`=3, BertNormalizer with lowercasing,
    /// BertPreTokenizer, `[CLS] $A [SEP]`, no padding/truncation in the file).
    fn tiny() -> HfTokenizer {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-bert");
        HfTokenizer {
            tokenizer_file: dir.join("tokenizer.json"),
            special_tokens: 2,
            hidden_size: Some(48),
            pad_token: None,
            pad_left: false,
            truncate_left: false,
        }
    }

    fn spec(model: HfTokenizer, max_seq_length: usize) -> FeatureSpec {
        FeatureSpec {
            json_path: "nodes[0].features[0]".into(),
            columns: vec!["text".into()],
            name: "text".into(),
            out_dtype: None,
            transform: Transform::TokenizeHf {
                bert_model: "tiny".into(),
                max_seq_length,
                tokenizer: model,
            },
            feature_dim: None,
        }
    }

    fn run(spec: &FeatureSpec, texts: &[Option<&str>]) -> Result<super::super::FeatureOutput> {
        run_col(spec, std::sync::Arc::new(StringArray::from(texts.to_vec())))
    }

    fn run_col(spec: &FeatureSpec, col: ArrayRef) -> Result<super::super::FeatureOutput> {
        let files = [FileColumns {
            path: Path::new("n.csv"),
            columns: vec![col],
        }];
        let ctx = FeatureCtx {
            validate: true,
            dst_ids: None,
            store: None,
            lm: Default::default(),
            progress: None,
        };
        compute_feature(spec, &files, &ctx)
    }

    fn rows<T: crate::tensor::Element + Copy>(t: &crate::tensor::Tensor) -> Vec<Vec<T>> {
        let w = t.shape[1];
        t.as_slice::<T>()
            .unwrap()
            .chunks(w)
            .map(<[T]>::to_vec)
            .collect()
    }

    /// Texts and the ids that `transformers` 4.49 / `tokenizers` 0.21.4 give for them with
    /// `PreTrainedTokenizerFast(tokenizer_file=…, pad_token="[PAD]", cls_token="[CLS]",
    /// sep_token="[SEP]", unk_token="[UNK]")(text, truncation=True, padding='max_length',
    /// max_length=8)`.
    const TEXTS: [&str; 8] = [
        "Hello, world!",
        "The quick brown fox jumped over the lazy dogs.",
        "",
        "GraphStorm",
        "Unbelievable café 中文",
        "abc xyz",
        "  \t ",
        "dog's",
    ];
    const IDS: [[i64; 8]; 8] = [
        [2, 18, 16, 19, 17, 3, 0, 0],
        [2, 5, 6, 7, 8, 9, 11, 3],
        [2, 3, 0, 0, 0, 0, 0, 0],
        [2, 20, 21, 3, 0, 0, 0, 0],
        [2, 22, 23, 24, 25, 26, 27, 3],
        [2, 28, 29, 30, 1, 3, 0, 0],
        [2, 3, 0, 0, 0, 0, 0, 0],
        [2, 14, 31, 1, 3, 0, 0, 0],
    ];

    #[test]
    fn matches_transformers() {
        let texts: Vec<Option<&str>> = TEXTS.iter().map(|t| Some(*t)).collect();
        let out = run(&spec(tiny(), 8), &texts).unwrap();
        let names: Vec<&str> = out.tensors.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, TOKENIZE_OUTPUTS);
        assert_eq!(out.feature_dim, vec![48]);
        assert!(out.learned.is_empty());
        let [ids, mask, types] = [0, 1, 2].map(|i| &out.tensors[i].tensor);
        assert_eq!(ids.shape, vec![8, 8]);
        assert_eq!(ids.dtype, crate::tensor::DType::I64);
        assert_eq!(mask.dtype, crate::tensor::DType::I8);
        assert_eq!(types.dtype, crate::tensor::DType::I8);
        assert_eq!(rows::<i64>(ids), IDS.map(|r| r.to_vec()).to_vec());
        let expect_mask: Vec<Vec<i8>> = IDS
            .iter()
            .map(|r| r.iter().map(|&i| (i != 0) as i8).collect())
            .collect();
        assert_eq!(rows::<i8>(mask), expect_mask);
        assert!(types.as_slice::<i8>().unwrap().iter().all(|&t| t == 0));
    }

    #[test]
    fn identical_texts_identical_tokens_across_slices() {
        // 20 rows cross the 7-row test slices; row order is kept.
        let texts: Vec<Option<&str>> = (0..20).map(|i| Some(TEXTS[i % 8])).collect();
        let out = run(&spec(tiny(), 8), &texts).unwrap();
        let ids = rows::<i64>(&out.tensors[0].tensor);
        for (i, r) in ids.iter().enumerate() {
            assert_eq!(r[..], IDS[i % 8][..], "row {i}");
        }
    }

    #[test]
    fn short_max_length_keeps_special_tokens() {
        // transformers with max_length=3: [CLS] hello [SEP] / [CLS] [SEP] [PAD].
        let out = run(&spec(tiny(), 3), &[Some("hello world"), Some("")]).unwrap();
        assert_eq!(
            rows::<i64>(&out.tensors[0].tensor),
            vec![vec![2, 18, 3], vec![2, 3, 0]]
        );
        let out = run(&spec(tiny(), 2), &[Some("hello world")]).unwrap();
        assert_eq!(rows::<i64>(&out.tensors[0].tensor), vec![vec![2, 3]]);
    }

    #[test]
    fn left_padding_and_truncation() {
        let mut m = tiny();
        m.pad_left = true;
        m.truncate_left = true;
        let out = run(&spec(m, 4), &[Some("hello"), Some("the quick brown fox")]).unwrap();
        assert_eq!(
            rows::<i64>(&out.tensors[0].tensor),
            vec![vec![0, 2, 18, 3], vec![2, 7, 8, 3]]
        );
        assert_eq!(
            rows::<i8>(&out.tensors[1].tensor),
            vec![vec![0, 1, 1, 1], vec![1, 1, 1, 1]]
        );
    }

    #[test]
    fn null_names_file_row_column() {
        let texts = [Some("a"); 9].into_iter().chain([None]).collect::<Vec<_>>();
        let e = run(&spec(tiny(), 8), &texts).unwrap_err();
        match e {
            Error::Data {
                file,
                row,
                column,
                msg,
            } => {
                assert_eq!(file, Path::new("n.csv"));
                assert_eq!(row, 9);
                assert_eq!(column, "text");
                assert!(msg.contains("missing value"), "{msg}");
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn numbers_are_rejected() {
        let col: ArrayRef = std::sync::Arc::new(arrow::array::Int64Array::from(vec![1, 2]));
        let e = run_col(&spec(tiny(), 8), col).unwrap_err();
        assert!(e.to_string().contains("needs a text column"), "{e}");
    }

    #[test]
    fn feature_dim_without_config_json_is_max_seq_length() {
        let mut m = tiny();
        m.hidden_size = None;
        let out = run(&spec(m, 8), &[Some("hello")]).unwrap();
        assert_eq!(out.feature_dim, vec![8]);
    }

    #[test]
    fn feature_dim_mismatch_is_config_error() {
        let mut s = spec(tiny(), 8);
        s.feature_dim = Some(vec![768]);
        let e = run(&s, &[Some("hello")]).unwrap_err();
        assert!(e.to_string().contains("feature_dim"), "{e}");
    }

    #[test]
    fn pad_token_from_tokenizer_config() {
        let mut m = tiny();
        m.pad_token = Some("[MASK]".into());
        let out = run(&spec(m.clone(), 4), &[Some("")]).unwrap();
        assert_eq!(rows::<i64>(&out.tensors[0].tensor), vec![vec![2, 3, 4, 4]]);
        m.pad_token = Some("<pad>".into());
        let e = run(&spec(m, 4), &[Some("")]).unwrap_err();
        assert!(
            e.to_string().contains("not in the tokenizer's vocabulary"),
            "{e}"
        );
    }

    #[test]
    fn broken_tokenizer_file() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("tokenizer.json");
        std::fs::write(&f, "{\"model\": 3}").unwrap();
        let mut m = tiny();
        m.tokenizer_file = f.clone();
        let e = run(&spec(m, 4), &[Some("")]).unwrap_err();
        assert!(e.to_string().contains("cannot load the tokenizer"), "{e}");
        assert!(e.to_string().contains(&f.display().to_string()), "{e}");
    }
}
