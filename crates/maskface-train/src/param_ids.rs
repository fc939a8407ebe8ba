//! Parameter ids that do not change from run to run.
//!
//! burn gives every parameter a random id when it is made, and its records
//! (`.bpk` weights, checkpoints, optimizer state) store those ids. Two runs
//! with the same seed then train the same weights but write different
//! bytes. Numbering the parameters in the module's own order makes the
//! files of a run, and of a run killed and resumed, the same bytes.

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::prelude::*;
use burn::tensor::Bool;

/// Gives a module's parameters the ids 0, 1, 2, ... in the order the module
/// lists them; values, gradient settings and the rest are kept.
///
/// Ids only have to be unique within what one optimizer sees, which is one
/// module: the same architecture always gets the same ids.
///
/// ```
/// # use burn::prelude::*;
/// # use burn::nn::LinearConfig;
/// # use burn::module::Module;
/// let device = Device::flex();
/// let a = maskface_train::sequential_param_ids(LinearConfig::new(2, 3).init(&device));
/// let b = maskface_train::sequential_param_ids(LinearConfig::new(2, 3).init(&device));
/// assert_eq!(a.weight.id, b.weight.id);
/// assert_ne!(a.weight.id, a.bias.as_ref().unwrap().id);
/// ```
pub fn sequential_param_ids<M: Module>(module: M) -> M {
    module.map(&mut SequentialIds { next: 0 })
}

struct SequentialIds {
    next: u64,
}

impl SequentialIds {
    fn renumber<T: burn::module::ParameterValue>(&mut self, param: Param<T>) -> Param<T> {
        let (_, value, mapper) = param.consume();
        let id = ParamId::from(self.next);
        self.next += 1;
        Param::from_mapped_value(id, value, mapper)
    }
}

impl ModuleMapper for SequentialIds {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        self.renumber(param)
    }

    fn map_int<const D: usize>(&mut self, param: Param<Tensor<D, Int>>) -> Param<Tensor<D, Int>> {
        self.renumber(param)
    }

    fn map_bool<const D: usize>(
        &mut self,
        param: Param<Tensor<D, Bool>>,
    ) -> Param<Tensor<D, Bool>> {
        self.renumber(param)
    }
}
