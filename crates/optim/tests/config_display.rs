//! The configs display themselves as Python writes the call (what `trainer train` prints in its
//! header): the class, then the arguments in PyTorch's order, those left at PyTorch's defaults
//! left out, floats as Python's `repr` writes them, strings quoted, and nested schedulers as
//! their own calls.

use optim::{OptimizerConfig, SchedulerConfig, SCHEDULER_NAMES};

fn scheduler(toml_text: &str) -> SchedulerConfig {
    toml::from_str(toml_text).unwrap_or_else(|e| panic!("{toml_text}: {e}"))
}

fn optimizer(toml_text: &str) -> OptimizerConfig {
    toml::from_str(toml_text).unwrap_or_else(|e| panic!("{toml_text}: {e}"))
}

#[test]
fn a_scheduler_shows_the_arguments_its_config_chose_in_pytorchs_order() {
    for (text, shown) in [
        // The keys in another order than PyTorch's, one at its default.
        (
            "name = \"StepLR\"\ngamma = 0.96\nstep_size = 4",
            "StepLR(step_size=4, gamma=0.96)",
        ),
        ("name = \"StepLR\"\nstep_size = 4\ngamma = 0.1", "StepLR(step_size=4)"),
        (
            "name = \"ReduceLROnPlateau\"\npatience = 1\nfactor = 0.5\nmode = \"max\"",
            "ReduceLROnPlateau(mode=\"max\", factor=0.5, patience=1)",
        ),
        (
            "name = \"ReduceLROnPlateau\"\nthreshold_mode = \"abs\"\neps = 1e-9\nmin_lr = [0.001, 0.002]",
            "ReduceLROnPlateau(threshold_mode=\"abs\", min_lr=[0.001, 0.002], eps=1e-9)",
        ),
        ("name = \"ExponentialLR\"\ngamma = 1", "ExponentialLR(gamma=1.0)"),
        (
            "name = \"CosineAnnealingLR\"\nT_max = 1175\neta_min = 0.0001",
            "CosineAnnealingLR(T_max=1175, eta_min=0.0001)",
        ),
        (
            "name = \"CosineAnnealingWarmRestarts\"\nT_0 = 235\nT_mult = 2",
            "CosineAnnealingWarmRestarts(T_0=235, T_mult=2)",
        ),
        (
            "name = \"OneCycleLR\"\nmax_lr = 0.1\ntotal_steps = 1175\nanneal_strategy = \"linear\"",
            "OneCycleLR(max_lr=0.1, total_steps=1175, anneal_strategy=\"linear\")",
        ),
        (
            "name = \"OneCycleLR\"\nmax_lr = 0.1\nepochs = 5\nsteps_per_epoch = 235\nthree_phase = true",
            "OneCycleLR(max_lr=0.1, epochs=5, steps_per_epoch=235, three_phase=true)",
        ),
        (
            "name = \"CyclicLR\"\nbase_lr = 0.01\nmax_lr = 0.1\nstep_size_up = 235\nmode = \"exp_range\"\ngamma = 0.999",
            "CyclicLR(base_lr=0.01, max_lr=0.1, step_size_up=235, mode=\"exp_range\", gamma=0.999)",
        ),
        (
            "name = \"LambdaLR\"\nlr_lambda = \"min(1, (t + 1) / 5) * 0.95 ^ t\"",
            "LambdaLR(lr_lambda=\"min(1, (t + 1) / 5) * 0.95 ^ t\")",
        ),
        (
            "name = \"MultiplicativeLR\"\nlr_lambda = { name = \"constant\", factor = 0.95 }",
            "MultiplicativeLR(lr_lambda=constant(factor=0.95))",
        ),
        (
            "name = \"LambdaLR\"\nlr_lambda = [\"0.9 ^ t\", { name = \"step\", step_size = 2, gamma = 0.5 }]",
            "LambdaLR(lr_lambda=[\"0.9 ^ t\", step(step_size=2, gamma=0.5)])",
        ),
        (
            "name = \"MultiStepLR\"\nmilestones = [2, 4]\ngamma = 0.5",
            "MultiStepLR(milestones=[2, 4], gamma=0.5)",
        ),
        (
            "name = \"ConstantLR\"\nfactor = 0.5",
            "ConstantLR(factor=0.5)",
        ),
        (
            "name = \"LinearLR\"\nstart_factor = 0.1\ntotal_iters = 235",
            "LinearLR(start_factor=0.1, total_iters=235)",
        ),
        ("name = \"PolynomialLR\"\npower = 2", "PolynomialLR(power=2.0)"),
        (
            "name = \"SequentialLR\"\nmilestones = [235]\nschedulers = [{ name = \"LinearLR\", start_factor = 0.1, total_iters = 235 }, { name = \"CosineAnnealingLR\", T_max = 940 }]",
            "SequentialLR(schedulers=[LinearLR(start_factor=0.1, total_iters=235), CosineAnnealingLR(T_max=940)], milestones=[235])",
        ),
        (
            "name = \"ChainedScheduler\"\nschedulers = [{ name = \"ConstantLR\", factor = 0.1, total_iters = 2 }, { name = \"ExponentialLR\", gamma = 0.9 }]",
            "ChainedScheduler(schedulers=[ConstantLR(factor=0.1, total_iters=2), ExponentialLR(gamma=0.9)])",
        ),
    ] {
        assert_eq!(scheduler(text).to_string(), shown, "{text}");
    }
}

#[test]
fn every_scheduler_displays_as_its_class_with_only_defaults_as_an_empty_call() {
    // The cases above cover every class; each starts with the class name.
    let covered = [
        "StepLR",
        "ReduceLROnPlateau",
        "ExponentialLR",
        "CosineAnnealingLR",
        "CosineAnnealingWarmRestarts",
        "OneCycleLR",
        "CyclicLR",
        "LambdaLR",
        "MultiplicativeLR",
        "MultiStepLR",
        "ConstantLR",
        "LinearLR",
        "PolynomialLR",
        "SequentialLR",
        "ChainedScheduler",
    ];
    for name in SCHEDULER_NAMES {
        assert!(covered.contains(name), "{name} has no display case above");
    }
    assert_eq!(
        scheduler("name = \"ConstantLR\"").to_string(),
        "ConstantLR()"
    );
    assert_eq!(
        scheduler("name = \"ReduceLROnPlateau\"").to_string(),
        "ReduceLROnPlateau()"
    );
}

#[test]
fn an_optimizer_shows_its_lr_and_what_differs_from_pytorchs_defaults() {
    for (text, shown) in [
        (
            "name = \"SGD\"\nnesterov = true\nmomentum = 0.9\nlr = 0.1",
            "SGD(lr=0.1, momentum=0.9, nesterov=true)",
        ),
        ("name = \"SGD\"", "SGD(lr=0.001)"),
        (
            "name = \"SGD\"\nlr = 0.05\nweight_decay = 5e-4\ndampening = 0.1",
            "SGD(lr=0.05, dampening=0.1, weight_decay=0.0005)",
        ),
        (
            "name = \"Adam\"\nbetas = [0.8, 0.99]",
            "Adam(lr=0.001, betas=[0.8, 0.99])",
        ),
        // AdamW's own default weight decay (1e-2) is not shown; Adam's 0 is its default.
        ("name = \"AdamW\"\nlr = 0.01", "AdamW(lr=0.01)"),
        (
            "name = \"AdamW\"\nweight_decay = 0.0\namsgrad = true\neps = 1e-6",
            "AdamW(lr=0.001, eps=1e-6, weight_decay=0.0, amsgrad=true)",
        ),
        (
            "name = \"Adam\"\nweight_decay = 0.01\nmaximize = true",
            "Adam(lr=0.001, weight_decay=0.01, maximize=true)",
        ),
    ] {
        assert_eq!(optimizer(text).to_string(), shown, "{text}");
    }
}
