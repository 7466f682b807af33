//! The integration tests, one module per topic, linked into a single test binary:
//! support pulls in libtorch and polars, so each extra test binary costs a long link
//! and hundreds of megabytes. Run one topic with `cargo test --test suite fmp_`.

mod check_basics;
mod check_extensions;
mod check_fmp;
mod check_lenet;
mod cli_bad_inputs;
mod cli_one_writer;
mod cli_recipes;
mod cli_runs;
mod cli_sweep;
mod cli_util;
mod data_augment;
mod data_fashion_mnist;
mod diary_export;
mod features_hog;
mod fmp_layer;
mod fmp_sizes;
mod models_counts;
mod models_forward;
mod models_lenet_paper;
mod models_own;
mod models_training;
mod perf_fmp_pool;
mod plot_figures;
mod plot_inside;
mod recipes;
mod show_table;
mod source_listing;
mod torch_generator;
mod train_adam;
mod train_artifacts;
mod train_evaluate;
mod train_fit;
mod train_interrupt;
mod train_live;
mod train_replace;
mod train_sdlm;
mod train_util;
