//! A saved state is input: restoring one that a fresh config would refuse is an error naming the
//! field, never a panic at a later step, and leaves the optimizer or scheduler as it was.

mod common;

use common::{scheduler_config, sgd};
use optim::{OptimError, ScheduleError, Scheduler, SchedulerState, Sgd, SgdState};
use serde_json::{json, Value};

/// The SGD state after two steps, as JSON, with `edit` applied, loaded back.
fn load_edited_sgd(edit: impl Fn(&mut Value)) -> (Sgd, Result<(), OptimError>) {
    let mut opt = sgd();
    let mut p = vec![1.0f32, 2.0, 3.0];
    for _ in 0..2 {
        opt.step(&mut [&mut p], &[&[0.1, -0.2, 0.3]]).unwrap();
    }
    let mut value = serde_json::to_value(opt.state()).unwrap();
    edit(&mut value);
    let state: SgdState = serde_json::from_value(value).unwrap();
    let mut fresh = sgd();
    let result = fresh.load_state(state);
    (fresh, result)
}

fn sgd_error(edit: impl Fn(&mut Value)) -> String {
    let (fresh, result) = load_edited_sgd(edit);
    let err = result.expect_err("the edited state must be refused");
    assert!(matches!(err, OptimError::BadState { .. }), "{err:?}");
    assert_eq!(fresh.state(), sgd().state(), "nothing changes on an error");
    err.to_string()
}

#[test]
fn sgd_hyper_parameters_get_the_checks_of_a_fresh_config() {
    let cases: [(&str, Value, &str); 6] = [
        ("lr", json!(-0.1), "param_groups[0].lr` = -0.1"),
        ("momentum", json!(50.0), "param_groups[0].momentum` = 50"),
        (
            "weight_decay",
            json!(-1.0),
            "param_groups[0].weight_decay` = -1",
        ),
        (
            "initial_lr",
            json!(-0.5),
            "param_groups[0].initial_lr` = -0.5",
        ),
        ("dampening", json!(0.5), "param_groups[0].dampening` = 0.5"),
        ("nesterov", json!(true), "param_groups[0].nesterov` = true"),
    ];
    for (key, value, needle) in cases {
        let err = sgd_error(|s| s["groups"][0][key] = value.clone());
        assert!(err.contains(needle), "{key}: {err}");
    }
    // A value no scheduler changes must match the optimizer it is loaded into.
    let err = sgd_error(|s| s["groups"][0]["weight_decay"] = json!(0.01));
    assert!(err.contains("no scheduler changes it"), "{err}");
}

#[test]
fn a_non_finite_momentum_buffer_is_refused() {
    // JSON has no NaN: a huge number parses to infinity as f32.
    let err = sgd_error(|s| s["momentum_buffers"][0][1] = json!(1e300));
    assert!(err.contains("momentum_buffers[0][1]"), "{err}");
}

#[test]
fn an_unedited_state_still_loads() {
    let (_, result) = load_edited_sgd(|_| {});
    result.unwrap();
}

/// Builds `config`, steps it three times, saves, edits the JSON and restores into a fresh one;
/// then (if accepted) steps it, which must not panic.
fn scheduler_error(config: &str, edit: impl Fn(&mut Value)) -> String {
    let mut opt = sgd();
    let mut sched = Scheduler::new(&scheduler_config(config), &mut opt).unwrap();
    let mut p = vec![1.0f32, 2.0, 3.0];
    for _ in 0..3 {
        opt.step(&mut [&mut p], &[&[0.1, 0.1, 0.1]]).unwrap();
        sched.step(&mut opt).unwrap();
    }
    let mut value = serde_json::to_value(sched.state()).unwrap();
    edit(&mut value);
    let state: SchedulerState = serde_json::from_value(value).unwrap();
    let mut fresh_opt = sgd();
    let mut fresh = Scheduler::new(&scheduler_config(config), &mut fresh_opt).unwrap();
    let before = serde_json::to_value(fresh.state()).unwrap();
    let err = fresh
        .load_state(state)
        .expect_err("the edited state must be refused");
    assert!(
        matches!(
            err,
            ScheduleError::BadState { .. } | ScheduleError::StateMismatch(_)
        ),
        "{err:?}"
    );
    assert_eq!(serde_json::to_value(fresh.state()).unwrap(), before);
    fresh.step(&mut fresh_opt).unwrap();
    err.to_string()
}

#[test]
fn scheduler_arguments_get_the_checks_of_a_fresh_config() {
    let step = "name = 'StepLR'\nstep_size = 2\ngamma = 0.5";
    let err = scheduler_error(step, |s| {
        s["node"]["Formula"]["rule"]["Step"]["step_size"] = json!(0)
    });
    assert!(err.contains("StepLR.step_size` = 0"), "{err}");
    let err = scheduler_error(step, |s| {
        s["node"]["Formula"]["rule"]["Step"]["gamma"] = json!(-1.0)
    });
    assert!(err.contains("StepLR.gamma` = -1"), "{err}");

    let cosine = "name = 'CosineAnnealingLR'\nT_max = 4";
    let err = scheduler_error(cosine, |s| {
        s["node"]["Formula"]["rule"]["Cosine"]["t_max"] = json!(0)
    });
    assert!(err.contains("CosineAnnealingLR.T_max` = 0"), "{err}");

    let warm = "name = 'CosineAnnealingWarmRestarts'\nT_0 = 2";
    let err = scheduler_error(warm, |s| s["node"]["WarmRestarts"]["t_i"] = json!(0));
    assert!(err.contains("T_i` = 0"), "{err}");

    let plateau = "name = 'ReduceLROnPlateau'\ncooldown = 1";
    let err = scheduler_error_plateau(plateau, |s| s["node"]["Plateau"]["factor"] = json!(2.0));
    assert!(err.contains("ReduceLROnPlateau.factor` = 2"), "{err}");
    let err = scheduler_error_plateau(plateau, |s| {
        s["node"]["Plateau"]["cooldown_counter"] = json!(5)
    });
    assert!(err.contains("cooldown_counter` = 5"), "{err}");
}

#[test]
fn sequential_milestones_must_match_the_children() {
    let seq = "name = 'SequentialLR'\nmilestones = [2]\n[[schedulers]]\nname = 'ConstantLR'\nfactor = 0.5\ntotal_iters = 2\n[[schedulers]]\nname = 'StepLR'\nstep_size = 1";
    let err = scheduler_error(seq, |s| {
        s["node"]["Sequential"]["milestones"] = json!([2, 4])
    });
    assert!(err.contains("SequentialLR.milestones` = [2, 4]"), "{err}");
    let err = scheduler_error(seq, |s| {
        s["node"]["Sequential"]["children"][1]["Formula"]["rule"]["Step"]["step_size"] = json!(0)
    });
    assert!(
        err.contains("SequentialLR.schedulers[1].step_size` = 0"),
        "{err}"
    );
    let err = scheduler_error(seq, |s| {
        s["node"]["Sequential"]["last_lr"] = json!([0.1, 0.1])
    });
    assert!(err.contains("2 parameter groups"), "{err}");
}

/// [`scheduler_error`] for ReduceLROnPlateau, which steps with a metric.
fn scheduler_error_plateau(config: &str, edit: impl Fn(&mut Value)) -> String {
    let mut opt = sgd();
    let mut sched = Scheduler::new(&scheduler_config(config), &mut opt).unwrap();
    let mut p = vec![1.0f32, 2.0, 3.0];
    for metric in [1.0, 0.9, 0.95] {
        opt.step(&mut [&mut p], &[&[0.1, 0.1, 0.1]]).unwrap();
        sched.step_with_metric(&mut opt, metric).unwrap();
    }
    let mut value = serde_json::to_value(sched.state()).unwrap();
    edit(&mut value);
    let state: SchedulerState = serde_json::from_value(value).unwrap();
    let mut fresh_opt = sgd();
    let mut fresh = Scheduler::new(&scheduler_config(config), &mut fresh_opt).unwrap();
    let err = fresh
        .load_state(state)
        .expect_err("the edited state must be refused");
    assert!(
        matches!(
            err,
            ScheduleError::BadState { .. } | ScheduleError::StateMismatch(_)
        ),
        "{err:?}"
    );
    fresh.step_with_metric(&mut fresh_opt, 0.5).unwrap();
    err.to_string()
}

/// A state that passes every range check but belongs to another config (a different gamma,
/// milestone or patience) is refused rather than silently replacing the configured schedule.
#[test]
fn a_state_from_another_config_is_refused() {
    let step = "name = 'StepLR'\nstep_size = 2\ngamma = 0.5";
    let err = scheduler_error(step, |s| {
        s["node"]["Formula"]["rule"]["Step"]["gamma"] = json!(0.7)
    });
    assert!(
        err.contains("gamma: 0.7") && err.contains("gamma: 0.5"),
        "{err}"
    );
    let err = scheduler_error(step, |s| {
        s["node"]["Formula"]["base"]["base_lrs"] = json!([0.2])
    });
    assert!(err.contains("base_lrs [0.2]"), "{err}");
    let seq = "name = 'SequentialLR'\nmilestones = [2]\n[[schedulers]]\nname = 'ConstantLR'\nfactor = 0.5\ntotal_iters = 2\n[[schedulers]]\nname = 'StepLR'\nstep_size = 1";
    let err = scheduler_error(seq, |s| s["node"]["Sequential"]["milestones"] = json!([5]));
    assert!(err.contains("milestones [5]"), "{err}");
    let plateau = "name = 'ReduceLROnPlateau'\ncooldown = 1";
    let err = scheduler_error_plateau(plateau, |s| s["node"]["Plateau"]["patience"] = json!(3));
    assert!(err.contains("patience 3"), "{err}");
}
