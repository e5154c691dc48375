//! `train::config`: the bench YAMLs (tests/fixtures/train/, copies of shared/bench/train/),
//! GraphStorm 0.5.1's defaults, CLI overrides, the runtime YAML round trip, and one case per
//! error class with its message.

use std::path::{Path, PathBuf};

use graphprep::train::config::{
    load, parse_str, EarlyStopStrategy, EdgeDecoder, Encoder, FanoutLayer, GnnNorm, LpDecoder,
    LpLoss, NegSampler, NodeFeat, Task, TrainConfig,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/train")
        .join(name)
}

fn ov(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A minimal valid NC config with `extra` lines added to the `gnn` section.
fn minimal(extra: &str) -> String {
    format!(
        "version: 1.0\ngsf:\n  gnn:\n    model_encoder_type: rgcn\n    fanout: \"5,5\"\n    \
         num_layers: 2\n    hidden_size: 16\n{extra}  hyperparam:\n    lr: 0.1\n    batch_size: 8\n  \
         node_classification:\n    target_ntype: paper\n    label_field: y\n    num_classes: 3\n"
    )
}

fn parse(yaml: &str) -> TrainConfig {
    parse_str(yaml, "test.yaml", &[]).unwrap_or_else(|e| panic!("{e}"))
}

fn err(yaml: &str) -> String {
    parse_str(yaml, "test.yaml", &[])
        .expect_err("expected an error")
        .to_string()
}

fn err_ov(yaml: &str, o: &[(&str, &str)]) -> String {
    parse_str(yaml, "test.yaml", &ov(o))
        .expect_err("expected an error")
        .to_string()
}

#[test]
fn bench_nc_rgcn_parses() {
    let c = load(&fixture("nc_rgcn.yaml"), &[]).unwrap();
    assert_eq!(c.task, Task::NodeClassification);
    assert_eq!(c.model_encoder_type, Encoder::Rgcn);
    assert_eq!(
        c.node_feat_name,
        NodeFeat::PerNtype(vec![("paper".into(), vec!["feat".into()])])
    );
    assert_eq!(c.node_feat_names("paper"), Some(vec!["feat".to_string()]));
    assert_eq!(c.node_feat_names("author"), None);
    assert_eq!(c.num_layers, 2);
    assert_eq!(c.hidden_size, 64);
    let f = c.fanout.as_ref().unwrap();
    assert_eq!(f.raw, "10,10");
    assert_eq!(f.ints(), Some(vec![10, 10]));
    assert_eq!(c.eval_fanout.ints(), Some(vec![-1, -1]));
    assert!(c.use_mini_batch_infer);
    assert_eq!(c.dropout, 0.0);
    assert_eq!(c.lr, 0.01);
    assert_eq!(c.sparse_optimizer_lr, 0.01);
    assert_eq!(c.num_epochs, 5);
    assert_eq!(c.batch_size, 1024);
    assert_eq!(c.eval_batch_size, 1024);
    assert_eq!(c.wd_l2norm, 0.0);
    assert_eq!(c.num_bases, -1);
    assert!(c.use_self_loop);
    assert!(!c.use_node_embeddings);
    assert_eq!(c.target_ntype, "paper");
    assert_eq!(c.label_field, "label");
    assert!(!c.multilabel);
    assert_eq!(c.num_classes, Some(8));
    assert_eq!(c.restore_model_path, None);
    assert_eq!(c.save_model_path, None);
    assert_eq!(c.save_embed_path, None);
    assert_eq!(c.eval_metric, vec!["accuracy"]);
}

#[test]
fn bench_nc_mlp_forces_zero_layers() {
    let c = load(&fixture("nc_mlp.yaml"), &[]).unwrap();
    assert_eq!(c.model_encoder_type, Encoder::Mlp);
    assert_eq!(c.num_layers, 0);
    assert_eq!(c.fanout, None);
    assert!(c.eval_fanout.layers.is_empty());
    assert_eq!(c.hidden_size, 64);
    assert_eq!(c.num_classes, Some(8));
}

#[test]
fn bench_lp_yaml_loads_with_graphstorm_defaults() {
    let c = load(&fixture("lp_rgcn.yaml"), &[]).unwrap();
    assert_eq!(c.task, Task::LinkPrediction);
    let lp = c.lp.as_ref().expect("LP section");
    let cites = (
        "paper".to_string(),
        "cites".to_string(),
        "paper".to_string(),
    );
    assert_eq!(lp.train_etype, Some(vec![cites.clone()]));
    assert_eq!(lp.train_negative_sampler, NegSampler::Joint);
    assert_eq!(lp.eval_negative_sampler, NegSampler::Joint);
    assert_eq!(
        (lp.num_negative_edges, lp.num_negative_edges_eval),
        (16, 1000)
    );
    assert_eq!(lp.decoder, LpDecoder::DotProduct);
    assert_eq!(lp.loss, LpLoss::Contrastive);
    // contrastive implies the L2 normaliser; temperature default 1
    assert!(lp.l2_normalize);
    assert_eq!(lp.contrastive_loss_temperature, 1.0);
    assert!(c.exclude_training_targets);
    assert_eq!(
        c.reverse_edge_types_map,
        vec![(
            cites,
            (
                "paper".to_string(),
                "cites-rev".to_string(),
                "paper".to_string()
            )
        )]
    );
    // LP evaluates with full-graph embeddings by default, and ranks by MRR
    assert!(!c.use_mini_batch_infer);
    assert_eq!(c.eval_metric, vec!["mrr".to_string()]);
}

#[test]
fn lp_defaults_and_errors() {
    let base = "gsf:\n  gnn:\n    model_encoder_type: rgcn\n    fanout: \"5\"\n    num_layers: 1\n    \
                hidden_size: 8\n  hyperparam:\n    lr: 0.1\n    batch_size: 8\n  link_prediction:\n";
    let with = |extra: &str| parse_str(&format!("{base}{extra}"), "lp.yaml", &[]);
    // GraphStorm: excluding targets is the default and needs a reverse map
    let e = with("    train_etype: [\"a,r,b\"]\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("reverse_edge_types_map") && e.contains("exclude_training_targets: false"),
        "{e}"
    );
    let c = with("    exclude_training_targets: false\n").unwrap();
    let lp = c.lp.unwrap();
    assert_eq!(lp.train_etype, None);
    assert_eq!(lp.decoder, LpDecoder::DistMult);
    assert_eq!(lp.loss, LpLoss::CrossEntropy);
    assert!(!lp.l2_normalize);
    assert_eq!(lp.train_negative_sampler, NegSampler::Uniform);
    assert_eq!(lp.gamma, 12.0);
    let e = with("    exclude_training_targets: false\n    lp_decoder_type: rotate\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("gsf.link_prediction.lp_decoder_type") && e.contains("rotate"),
        "{e}"
    );
    let e = with("    exclude_training_targets: false\n    train_negative_sampler: localuniform\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("train_negative_sampler") && e.contains("localuniform"),
        "{e}"
    );
    let e = with("    reverse_edge_types_map: [\"a,r,b\"]\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("head,rel,rev_rel,tail"), "{e}");
    let e = with("    exclude_training_targets: false\n    eval_metric: [accuracy]\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not supported for link prediction"), "{e}");
    let c =
        with("    exclude_training_targets: false\n    eval_metric: [hit_at_10, mrr]\n").unwrap();
    assert_eq!(
        c.eval_metric,
        vec!["hit_at_10".to_string(), "mrr".to_string()]
    );
    let e = with("    exclude_training_targets: false\n    train_etype: [\"a,r\"]\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("gsf.link_prediction.train_etype") && e.contains("src,rel,dst"),
        "{e}"
    );
}

#[test]
fn edge_task_sections() {
    let y = "gsf:\n  gnn:\n    model_encoder_type: rgcn\n    fanout: \"5\"\n    num_layers: 1\n    \
             hidden_size: 8\n  hyperparam:\n    lr: 0.1\n    batch_size: 8\n  edge_classification:\n    \
             target_etype: [\"a,r,b\"]\n    label_field: y\n    num_classes: 3\n    \
             reverse_edge_types_map: [\"a,r,r-rev,b\"]\n";
    let c = parse_str(y, "ec.yaml", &[]).unwrap();
    assert_eq!(c.task, Task::EdgeClassification);
    let e = c.edge.unwrap();
    assert_eq!(e.target_etype, ("a".into(), "r".into(), "b".into()));
    assert_eq!(e.decoder_type, EdgeDecoder::DenseBi);
    assert_eq!(e.num_decoder_basis, 2);
    assert!(e.remove_target_edge_type);
    assert!(c.use_mini_batch_infer);
    assert_eq!(c.eval_metric, vec!["accuracy".to_string()]);
    let r = parse_str(
        &y.replace("edge_classification", "edge_regression"),
        "er.yaml",
        &[],
    )
    .unwrap();
    assert_eq!(r.task, Task::EdgeRegression);
    assert_eq!(r.eval_metric, vec!["rmse".to_string()]);
    let e = parse_str(&y.replace("    label_field: y\n", ""), "ec.yaml", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("label_field"), "{e}");
}

#[test]
fn defaults_are_graphstorm_0_5_1() {
    let c = parse(&minimal(""));
    assert_eq!(c.out_emb_size, None);
    assert_eq!(c.out_size(), 16);
    assert_eq!(c.gnn_norm, None);
    assert_eq!(c.input_activate, None);
    assert!(c.use_self_loop);
    assert_eq!(c.num_bases, -1);
    assert!(!c.use_node_embeddings);
    assert!(c.decoder_bias);
    assert_eq!(c.dropout, 0.0);
    assert_eq!(c.sparse_optimizer_lr, 0.1);
    assert_eq!(c.num_epochs, 0);
    assert_eq!(c.eval_batch_size, 10000);
    assert_eq!(c.wd_l2norm, 0.0);
    assert_eq!(c.alpha_l2norm, 0.0);
    assert_eq!(c.max_grad_norm, None);
    assert_eq!(c.grad_norm_type, 2.0);
    assert_eq!(c.eval_frequency, usize::MAX);
    assert!(!c.no_validation);
    assert!(!c.use_early_stop);
    assert_eq!(c.early_stop_burnin_rounds, 0);
    assert_eq!(c.early_stop_rounds, 3);
    assert_eq!(c.early_stop_strategy, EarlyStopStrategy::AverageIncrease);
    assert_eq!(c.log_report_frequency, 1000);
    assert_eq!(c.eval_target_ntype, "paper");
    assert!(!c.multilabel);
    assert_eq!(c.multilabel_weights, None);
    assert_eq!(c.imbalance_class_weights, None);
    assert_eq!(c.class_loss_func, "cross_entropy");
    assert_eq!(c.regression_loss_func, "mse");
    assert!(c.return_proba);
    assert!(!c.infer_all_target_nodes);
    assert_eq!(c.save_model_frequency, -1);
    assert_eq!(c.topk_model_to_save, None);
    assert_eq!(c.save_embed_format, "pytorch");
    assert_eq!(c.save_prediction_path, None);
    assert_eq!(c.save_perf_results_path, None);
    assert_eq!(c.restore_optimizer_path, None);
    assert_eq!(c.part_config, None);
    assert_eq!(c.node_feat_name, NodeFeat::None);
    assert_eq!(
        c.mask_fields,
        [
            "train_mask".to_string(),
            "val_mask".into(),
            "test_mask".into()
        ]
    );
    // No target_ntype: GraphStorm's homogeneous default.
    let c = parse(&minimal("").replace("    target_ntype: paper\n", ""));
    assert_eq!(c.target_ntype, "_N");
}

#[test]
fn regression_task_and_its_defaults() {
    let y = minimal("").replace(
        "  node_classification:\n    target_ntype: paper\n    label_field: y\n    num_classes: 3\n",
        "  node_regression:\n    target_ntype: paper\n    label_field: y\n",
    );
    let c = parse(&y);
    assert_eq!(c.task, Task::NodeRegression);
    assert_eq!(c.num_classes, None);
    assert_eq!(c.eval_metric, vec!["rmse"]);
    let e = err(&y.replace(
        "label_field: y\n",
        "label_field: y\n    eval_metric: accuracy\n",
    ));
    assert!(
        e.contains("metric 'accuracy' is not supported for regression (supported: rmse, mse, mae)"),
        "{e}"
    );
}

#[test]
fn values_of_every_form() {
    let c = parse(&minimal(
        "    out_emb_size: 32\n    eval_fanout: \"4,-1\"\n    gnn_norm: batch\n    input_activate: relu\n    \
         use_mini_batch_infer: false\n    node_feat_name: [\"paper:feat,year\", \"author:emb\"]\n    \
         eval_metric: [ACCURACY, f1_score]\n    imbalance_class_weights: \"1,2,0.5\"\n    \
         early_stop_strategy: consecutive_increase\n    topk_model_to_save: 2\n    \
         save_embed_path: /tmp/emb\n    mask_field_names: [tr, va, te]\n    backend: nccl\n    \
         num_ffn_layers_in_input: 0\n    edge_feat_name: null\n    max_grad_norm: 1\n",
    ));
    assert_eq!(c.out_size(), 32);
    assert_eq!(c.eval_fanout.ints(), Some(vec![4, -1]));
    assert_eq!(c.gnn_norm, Some(GnnNorm::Batch));
    assert_eq!(c.input_activate.as_deref(), Some("relu"));
    assert!(!c.use_mini_batch_infer);
    assert_eq!(
        c.node_feat_names("paper"),
        Some(vec!["feat".to_string(), "year".to_string()])
    );
    assert_eq!(c.node_feat_names("author"), Some(vec!["emb".to_string()]));
    assert_eq!(c.eval_metric, vec!["accuracy", "f1_score"]);
    assert_eq!(c.imbalance_class_weights, Some(vec![1.0, 2.0, 0.5]));
    assert_eq!(
        c.early_stop_strategy,
        EarlyStopStrategy::ConsecutiveIncrease
    );
    assert_eq!(c.topk_model_to_save, Some(2));
    assert_eq!(c.save_embed_path, Some(PathBuf::from("/tmp/emb")));
    assert_eq!(c.save_prediction_path, Some(PathBuf::from("/tmp/emb")));
    assert_eq!(c.mask_fields, ["tr".to_string(), "va".into(), "te".into()]);
    assert_eq!(c.max_grad_norm, Some(1.0));
    // One name for every node type.
    let c = parse(&minimal("    node_feat_name: feat\n"));
    assert_eq!(c.node_feat_name, NodeFeat::All(vec!["feat".into()]));
    assert_eq!(
        c.node_feat_names("anything"),
        Some(vec!["feat".to_string()])
    );
    // Per-etype fanouts.
    let c = parse(&minimal("").replace(
        "fanout: \"5,5\"",
        "fanout: \"p/cites/p:10@a/writes/p:5,p/cites/p:5@a/writes/p:0\"",
    ));
    let f = c.fanout.unwrap();
    assert_eq!(f.ints(), None);
    assert_eq!(
        f.layers[1],
        FanoutLayer::PerEtype(vec![
            (("p".into(), "cites".into(), "p".into()), 5),
            (("a".into(), "writes".into(), "p".into()), 0)
        ])
    );
    // A key in two sections: the later one wins.
    let c = parse(&minimal("").replace("  hyperparam:\n", "  hyperparam:\n    hidden_size: 99\n"));
    assert_eq!(c.hidden_size, 99);
}

#[test]
fn cli_overrides_replace_yaml_values() {
    let y = minimal("    save_model_path: /tmp/m\n    use_self_loop: true\n");
    let c = parse_str(
        &y,
        "t",
        &ov(&[
            ("num-epochs", "3"),
            ("--lr", "0.5"),
            ("save-model-path", "None"),
            ("save_embed_path", "/tmp/e"),
            ("use-self-loop", "yes"),
            ("no-validation", "1"),
            ("fanout", "2,3"),
            ("eval-metric", "accuracy f1_score"),
            ("part-config", "/data/g.json"),
            ("restore-model-path", "none"),
        ]),
    )
    .unwrap();
    assert_eq!(c.num_epochs, 3);
    assert_eq!(c.lr, 0.5);
    assert_eq!(c.sparse_optimizer_lr, 0.5);
    assert_eq!(c.save_model_path, None);
    assert_eq!(c.save_embed_path, Some(PathBuf::from("/tmp/e")));
    assert!(!c.use_self_loop, "anything but true/1 is false");
    assert!(c.no_validation);
    assert_eq!(c.fanout.unwrap().ints(), Some(vec![2, 3]));
    assert_eq!(c.eval_metric, vec!["accuracy", "f1_score"]);
    assert_eq!(c.part_config, Some(PathBuf::from("/data/g.json")));
    // `none` means None only for the three save paths (GraphStorm's override_arguments).
    assert_eq!(c.restore_model_path, Some(PathBuf::from("none")));
}

#[test]
fn runtime_yaml_reads_back_equal() {
    for (yaml, o) in [
        (
            std::fs::read_to_string(fixture("nc_rgcn.yaml")).unwrap(),
            ov(&[("num-epochs", "2"), ("part-config", "/g/x.json")]),
        ),
        (
            std::fs::read_to_string(fixture("nc_mlp.yaml")).unwrap(),
            ov(&[("save-embed-path", "/tmp/e"), ("lr", "0.125")]),
        ),
        (
            minimal("    node_feat_name: [\"paper:a,b\"]\n    eval_metric: [accuracy]\n    dropout: 0.5\n"),
            ov(&[("fanout", "3,4"), ("eval-fanout", "2,2")]),
        ),
    ] {
        let c = parse_str(&yaml, "t", &o).unwrap();
        let back = c.runtime_yaml();
        let c2 = parse_str(&back, "runtime", &[]).unwrap_or_else(|e| panic!("{e}\n{back}"));
        assert_eq!(c, c2, "{back}");
    }
    // Keys return to their sections; CLI-only keys go to gsf.runtime.
    let c = parse_str(
        &std::fs::read_to_string(fixture("nc_rgcn.yaml")).unwrap(),
        "t",
        &ov(&[("num-epochs", "2"), ("part-config", "/g/x.json")]),
    )
    .unwrap();
    let y = c.runtime_yaml();
    assert!(y.contains("hyperparam:\n    dropout:"), "{y}");
    assert!(y.contains("num_epochs: 2"), "{y}");
    assert!(y.contains("runtime:\n    part_config: /g/x.json"), "{y}");
}

#[test]
fn unknown_keys_name_their_path() {
    let e = err(&minimal("").replace("    lr: 0.1\n", "    lrr: 0.1\n    lr: 0.1\n"));
    assert!(
        e.contains("test.yaml: gsf.hyperparam.lrr: unknown key; did you mean lr?"),
        "{e}"
    );
    let e = err(&minimal("    totally_new_option: 1\n"));
    assert!(e.contains("gsf.gnn.totally_new_option: unknown key"), "{e}");
    assert!(!e.contains("did you mean"), "{e}");
    let e = err_ov(&minimal(""), &[("num-epoch", "3")]);
    assert!(
        e.contains("--num-epoch") && e.contains("did you mean num-epochs?"),
        "{e}"
    );
    let e = err(&format!("{}extra_top: 1\n", minimal("")));
    assert!(e.contains("extra_top: unknown top-level key"), "{e}");
}

#[test]
fn unsupported_features_fail_only_when_used() {
    for (line, what) in [
        ("    num_ffn_layers_in_input: 1\n", "gsf.gnn.num_ffn_layers_in_input: not supported yet"),
        ("    edge_feat_name: [\"a,r,b:f\"]\n", "gsf.gnn.edge_feat_name: not supported yet"),
        ("    use_pseudolabel: true\n", "gsf.gnn.use_pseudolabel: not supported yet"),
        ("    lm_tune_lr: 0.01\n", "gsf.gnn.lm_tune_lr: not supported yet"),
        ("    class_loss_func: focal\n", "focal loss is not supported yet"),
        ("    regression_loss_func: shrinkage\n", "'shrinkage' is not supported (supported: mse)"),
        ("    save_embed_format: hdf5\n", "'hdf5' is not supported (supported: pytorch)"),
        ("    eval_metric: roc_auc\n", "metric 'roc_auc' is not supported for classification (supported: accuracy, f1_score, precision, recall)"),
        ("    node_feat_name: [\"paper:a\", \"paper:b\"]\n", "appears twice (feature groups)"),
        ("    gnn_norm: group\n", "'group' is not supported (supported: batch, layer)"),
    ] {
        let e = err(&minimal(line));
        assert!(e.contains(what), "{line}: {e}");
    }
    // The defaults of the same keys are accepted.
    parse(&minimal(
        "    num_ffn_layers_in_input: 0\n    use_pseudolabel: false\n    class_loss_func: cross_entropy\n",
    ));
    let e = err(&minimal("").replace("model_encoder_type: rgcn", "model_encoder_type: rgat"));
    assert!(
        e.contains("encoder 'rgat' is not supported yet in graphprep (supported: rgcn, mlp)"),
        "{e}"
    );
    let e = err(&minimal("").replace("model_encoder_type: rgcn", "model_encoder_type: foo"));
    assert!(e.contains("unknown encoder 'foo'"), "{e}");
    let e = err(&minimal("").replace("num_classes: 3", "num_classes:\n      paper: 3"));
    assert!(
        e.contains(
            "gsf.node_classification.num_classes: a per-node-type dict is not supported yet"
        ),
        "{e}"
    );
    let e = err(&format!("{}udf:\n  x: 1\n", minimal("")));
    assert!(e.contains("udf: not supported"), "{e}");
    let e = err(&format!("{}lm_model:\n  node_lm_models: []\n", minimal("")));
    assert!(e.contains("lm_model: not supported"), "{e}");
    let e = err("version: 1.0\ngsf:\n  multi_task_learning:\n    - node_classification: {}\n");
    assert!(
        e.contains("multi_task_learning") && e.contains("not supported yet in graphprep"),
        "{e}"
    );
}

#[test]
fn type_errors_name_path_and_type() {
    let e = err(&minimal("").replace("hidden_size: 16", "hidden_size: big"));
    assert!(
        e.contains("gsf.gnn.hidden_size: expected an integer, got the string 'big'"),
        "{e}"
    );
    let e = err(&minimal("").replace("lr: 0.1", "lr: fast"));
    assert!(
        e.contains("gsf.hyperparam.lr: expected a number, got the string 'fast'"),
        "{e}"
    );
    let e = err(&minimal("    use_self_loop: 3\n"));
    assert!(
        e.contains("gsf.gnn.use_self_loop: expected a boolean, got the integer 3"),
        "{e}"
    );
    let e = err(&minimal("    eval_metric: {a: 1}\n"));
    assert!(
        e.contains("gsf.gnn.eval_metric: expected a list of strings, got a mapping"),
        "{e}"
    );
    let e = err(&minimal("").replace("fanout: \"5,5\"", "fanout: \"5\""));
    assert!(
        e.contains("gsf.gnn.fanout: 1 layers in fanout '5', num_layers is 2"),
        "{e}"
    );
    let e = err(&minimal("").replace("fanout: \"5,5\"", "fanout: \"5,x\""));
    assert!(e.contains("not an integer"), "{e}");
    let e = err(&minimal("    dropout: 1.5\n"));
    assert!(e.contains("gsf.gnn.dropout: must be in [0, 1)"), "{e}");
    let e = err(&minimal("").replace("num_classes: 3", "num_classes: 1"));
    assert!(e.contains("num_classes: must be >= 2"), "{e}");
    let e = err(&minimal("    imbalance_class_weights: \"1,2\"\n"));
    assert!(e.contains("2 weights given, num_classes is 3"), "{e}");
    let e = err(&minimal("    mask_field_names: [a, b]\n"));
    assert!(e.contains("expected 3 names [train, val, test]"), "{e}");
    let e = err_ov(&minimal(""), &[("num-epochs", "many")]);
    assert!(
        e.contains("--num-epochs") && e.contains("expected an integer, got 'many'"),
        "{e}"
    );
    let e = err("gsf: [\n");
    assert!(e.contains("invalid YAML"), "{e}");
    let e = err("version: 1.0\ngsf:\n");
    assert!(e.contains("gsf: must be a mapping"), "{e}");
}

#[test]
fn required_keys_are_named() {
    let e = err("version: 1.0\ngsf:\n  node_classification:\n    target_ntype: p\n");
    assert!(
        e.contains("gsf: missing required keys lr, batch_size, hidden_size, model_encoder_type, label_field, num_classes"),
        "{e}"
    );
    let e = err(&minimal("").replace("    fanout: \"5,5\"\n    num_layers: 2\n", ""));
    assert!(
        e.contains("missing required keys fanout, num_layers"),
        "{e}"
    );
    // mlp needs neither.
    let c = parse(
        &minimal("")
            .replace("    fanout: \"5,5\"\n    num_layers: 2\n", "")
            .replace("rgcn", "mlp"),
    );
    assert_eq!(c.num_layers, 0);
    let e = err(&minimal("").replace("  node_classification:\n", "  other:\n"));
    assert!(e.contains("no task section"), "{e}");
    let e = load(Path::new("/nonexistent/x.yaml"), &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("/nonexistent/x.yaml") && e.contains("cannot read"),
        "{e}"
    );
}
