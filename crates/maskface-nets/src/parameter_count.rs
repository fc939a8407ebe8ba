//! Parameter counts as PyTorch reports them.

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;

/// burn keeps a batch norm's running statistics among its float tensors;
/// PyTorch calls them buffers, not parameters.
const BUFFERS: [&str; 2] = ["running_mean", "running_var"];

struct Count {
    path: Vec<String>,
    trainable_only: bool,
    total: usize,
}

impl ModuleVisitor for Count {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let buffer = self
            .path
            .last()
            .is_some_and(|name| BUFFERS.contains(&name.as_str()));
        if !buffer && (!self.trainable_only || param.is_require_grad()) {
            self.total += param.shape().num_elements();
        }
    }
}

fn count<M: Module>(module: &M, trainable_only: bool) -> usize {
    let mut count = Count {
        path: Vec::new(),
        trainable_only,
        total: 0,
    };
    module.visit(&mut count);
    count.total
}

/// The number of learned weights, as PyTorch's
/// `sum(p.numel() for p in model.parameters())` counts them: every float
/// tensor except batch norms' running statistics (which burn's
/// [`Module::num_params`] includes).
pub fn parameter_count<M: Module>(module: &M) -> usize {
    count(module, false)
}

/// The weights among [`parameter_count`]'s that training updates (on an
/// autodiff device: those not frozen).
pub fn trainable_parameter_count<M: Module>(module: &M) -> usize {
    count(module, true)
}
