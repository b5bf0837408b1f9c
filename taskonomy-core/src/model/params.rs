//! Parameters: named tensors with run-time shapes, visited in a fixed order.
//!
//! dfdx 0.13's ready-made modules fix every size at compile time (`Linear<I, O>`), but a Taskonomy run builds
//! one network per task from specs read at run time (`Classes<1000>`, `PixelClasses<64>`, ...), so our layers
//! hold `usize`-shaped tensors and describe themselves through [`Parameters`]. One visiting order then
//! serves the gradient container, the optimiser ([`Adam`]) and the weight files ([`save_safetensors`]).

use std::collections::BTreeMap;
use std::path::Path;

use dfdx::prelude::*;

use super::ModelError;

/// A vector parameter (biases, layer-norm gains).
pub type Vector<D> = Tensor<(usize,), f32, D>;
/// A matrix parameter (weights, position embeddings).
pub type Matrix<D> = Tensor<(usize, usize), f32, D>;

/// A parameter seen by a [`Parameters::visit`] callback.
pub enum ParamRef<'a, D: Device<f32>> {
    /// A vector.
    Vector(&'a Vector<D>),
    /// A matrix.
    Matrix(&'a Matrix<D>),
}

/// A parameter seen by a [`Parameters::visit_mut`] callback.
pub enum ParamMut<'a, D: Device<f32>> {
    /// A vector.
    Vector(&'a mut Vector<D>),
    /// A matrix.
    Matrix(&'a mut Matrix<D>),
}

impl<D: Device<f32>> ParamRef<'_, D> {
    /// The shape as a list of sizes.
    pub fn dims(&self) -> Vec<usize> {
        match self {
            ParamRef::Vector(t) => vec![t.shape().0],
            ParamRef::Matrix(t) => vec![t.shape().0, t.shape().1],
        }
    }

    /// The values, row-major.
    pub fn values(&self) -> Vec<f32> {
        match self {
            ParamRef::Vector(t) => t.as_vec(),
            ParamRef::Matrix(t) => t.as_vec(),
        }
    }
}

/// Something made of parameters: a layer, a network. Visiting order is the declaration order of the
/// fields, and names are dotted paths (`encoder.blocks.0.tokens.hidden.weight`).
pub trait Parameters<D: Device<f32>> {
    /// Calls `f` with the name and a reference of every parameter, in a fixed order.
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(String, ParamRef<'a, D>));
    /// Calls `f` with the name and a mutable reference of every parameter, in the same order.
    fn visit_mut(&mut self, prefix: &str, f: &mut dyn FnMut(String, ParamMut<'_, D>));

    /// The number of scalar parameters.
    fn num_params(&self) -> usize {
        let mut n = 0;
        self.visit("", &mut |_, p| n += p.dims().iter().product::<usize>());
        n
    }
}

/// Joins a prefix and a field name with a dot.
pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// A vector is one parameter, named by the path that leads to it.
impl<D: Device<f32>> Parameters<D> for Vector<D> {
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(String, ParamRef<'a, D>)) {
        f(prefix.to_owned(), ParamRef::Vector(self));
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut dyn FnMut(String, ParamMut<'_, D>)) {
        f(prefix.to_owned(), ParamMut::Vector(self));
    }
}

/// A matrix is one parameter, named by the path that leads to it.
impl<D: Device<f32>> Parameters<D> for Matrix<D> {
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(String, ParamRef<'a, D>)) {
        f(prefix.to_owned(), ParamRef::Matrix(self));
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut dyn FnMut(String, ParamMut<'_, D>)) {
        f(prefix.to_owned(), ParamMut::Matrix(self));
    }
}

/// Implements [`Parameters`] for a layer or network generic over its device: visits the listed fields in
/// the order given, each under its own name (`parameters!(Dense { weight, bias })` names `weight` and
/// `bias`; nested layers add their fields' names after a dot). Fields that are not parameters (sizes,
/// flags) are simply not listed. The order is part of the weight files and the optimiser's state, so it
/// is written once here instead of twice by hand (`visit` and `visit_mut`).
macro_rules! parameters {
    ($layer:ident { $($field:ident),+ $(,)? }) => {
        impl<D: dfdx::prelude::Device<f32>> $crate::model::params::Parameters<D> for $layer<D> {
            fn visit<'a>(
                &'a self,
                prefix: &str,
                f: &mut dyn FnMut(String, $crate::model::params::ParamRef<'a, D>),
            ) {
                $(
                    let name = $crate::model::params::join(prefix, stringify!($field));
                    $crate::model::params::Parameters::visit(&self.$field, &name, f);
                )+
            }
            fn visit_mut(
                &mut self,
                prefix: &str,
                f: &mut dyn FnMut(String, $crate::model::params::ParamMut<'_, D>),
            ) {
                $(
                    let name = $crate::model::params::join(prefix, stringify!($field));
                    $crate::model::params::Parameters::visit_mut(&mut self.$field, &name, f);
                )+
            }
        }
    };
}
pub(crate) use parameters;

impl<D: Device<f32>, P: Parameters<D>> Parameters<D> for Vec<P> {
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(String, ParamRef<'a, D>)) {
        for (i, p) in self.iter().enumerate() {
            p.visit(&join(prefix, &i.to_string()), f);
        }
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut dyn FnMut(String, ParamMut<'_, D>)) {
        for (i, p) in self.iter_mut().enumerate() {
            p.visit_mut(&join(prefix, &i.to_string()), f);
        }
    }
}

impl<D: Device<f32>, P: Parameters<D>> Parameters<D> for Option<P> {
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(String, ParamRef<'a, D>)) {
        if let Some(p) = self {
            p.visit(prefix, f);
        }
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut dyn FnMut(String, ParamMut<'_, D>)) {
        if let Some(p) = self {
            p.visit_mut(prefix, f);
        }
    }
}

/// Adam (Kingma & Ba, 2015) over any [`Parameters`], with a learning rate that may change every step.
///
/// The moment buffers live on the device and are updated by dfdx's fused Adam kernel, so a step costs one
/// pass over the parameters whatever the device.
pub struct Adam<D: Device<f32>> {
    config: AdamConfig,
    decay: f64,
    step: i32,
    moments: Vec<(<D as Storage<f32>>::Vec, <D as Storage<f32>>::Vec)>,
}

impl<D: Device<f32>> Adam<D> {
    /// An optimiser for `model` with learning rate `lr`, β = (0.9, 0.999), ε = 1e-8, no weight decay.
    pub fn new(model: &impl Parameters<D>, dev: &D, lr: f64) -> Result<Self, D::Err> {
        let mut sizes = Vec::new();
        model.visit("", &mut |_, p| {
            sizes.push(p.dims().iter().product::<usize>())
        });
        let moments = sizes
            .into_iter()
            .map(|n| {
                Ok((
                    Storage::<f32>::try_alloc_len(dev, n)?,
                    Storage::<f32>::try_alloc_len(dev, n)?,
                ))
            })
            .collect::<Result<Vec<_>, D::Err>>()?;
        Ok(Adam {
            config: AdamConfig {
                lr,
                ..Default::default()
            },
            decay: 0.0,
            step: 0,
            moments,
        })
    }

    /// Sets the learning rate for the next steps (schedules call this before every step).
    pub fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    /// Decoupled weight decay (Loshchilov & Hutter, 2019) of `decay` per unit of learning rate, on the
    /// weight matrices only: biases and norm gains keep their values (a head started at its constant
    /// predictor is pulled back towards that prediction, not towards zero).
    pub fn with_weight_decay(mut self, decay: f64) -> Self {
        self.decay = decay;
        self
    }

    /// One update of every parameter of `model` from `grads` (as returned by `backward`).
    pub fn update(
        &mut self,
        model: &mut impl Parameters<D>,
        grads: &mut Gradients<f32, D>,
    ) -> Result<(), D::Err> {
        self.step += 1;
        let (config, step, decay) = (self.config, self.step, self.decay);
        let mut moments = self.moments.iter_mut();
        let mut failure = None;
        model.visit_mut("", &mut |_, p| {
            let Some((m1, m2)) = moments.next() else {
                return;
            };
            let result = match p {
                ParamMut::Vector(t) => grads
                    .get_or_alloc_mut(t)
                    .and_then(|g| config.try_update(step, t, m1, m2, g)),
                ParamMut::Matrix(t) => grads.get_or_alloc_mut(t).and_then(|g| {
                    let decayed = AdamConfig {
                        weight_decay: (decay > 0.0).then_some(WeightDecay::Decoupled(decay)),
                        ..config
                    };
                    decayed.try_update(step, t, m1, m2, g)
                }),
            };
            if let Err(e) = result {
                failure.get_or_insert(e);
            }
        });
        failure.map_or(Ok(()), Err)
    }
}

/// The parameters as safetensors bytes (`F32`, names as visited).
pub fn to_safetensors<D: Device<f32>>(model: &impl Parameters<D>) -> Result<Vec<u8>, ModelError> {
    let mut tensors: BTreeMap<String, (Vec<usize>, Vec<u8>)> = BTreeMap::new();
    model.visit("", &mut |name, p| {
        let bytes = p.values().iter().flat_map(|v| v.to_le_bytes()).collect();
        tensors.insert(name, (p.dims(), bytes));
    });
    let views = tensors
        .iter()
        .map(|(name, (dims, bytes))| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, dims.clone(), bytes)
                .map(|view| (name.clone(), view))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ModelError::Weights {
            what: "weights in memory".into(),
            message: e.to_string(),
        })?;
    safetensors::serialize(views, None).map_err(|e| ModelError::Weights {
        what: "weights in memory".into(),
        message: e.to_string(),
    })
}

/// Writes the parameters to `path` as safetensors (through [`crate::store::write_atomic`]).
pub fn save_safetensors<D: Device<f32>>(
    model: &impl Parameters<D>,
    path: &Path,
) -> Result<(), ModelError> {
    let bytes = to_safetensors(model)?;
    crate::store::write_atomic(path, &bytes).map_err(|e| ModelError::Weights {
        what: path.display().to_string(),
        message: e.to_string(),
    })
}

/// Loads every parameter of `model` from safetensors bytes; `origin` names the bytes in errors. Every
/// parameter must be present with its exact shape, as `F32`; the file is checked whole before any value is
/// copied, so a file that does not fit leaves the model as it was.
pub fn from_safetensors<D: Device<f32>>(
    model: &mut impl Parameters<D>,
    bytes: &[u8],
    origin: &str,
) -> Result<(), ModelError> {
    let weights = |message: String| ModelError::Weights {
        what: origin.into(),
        message,
    };
    check_data_ends(bytes).map_err(weights)?;
    let file = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| weights(format!("expected a safetensors file: {e}")))?;
    let mut problems = Vec::new();
    let mut loaded = Vec::new();
    model.visit("", &mut |name, p| {
        let expected = p.dims();
        let view = match file.tensor(&name) {
            Ok(view) => view,
            Err(_) => {
                problems.push(format!("tensor `{name}` is missing"));
                return;
            }
        };
        // The data length is safetensors' to check, but copying a wrong one into a tensor would panic.
        let len = 4 * expected.iter().product::<usize>();
        if view.dtype() != safetensors::Dtype::F32
            || view.shape() != expected.as_slice()
            || view.data().len() != len
        {
            problems.push(format!(
                "tensor `{name}`: expected F32 {expected:?}, found {:?} {:?}",
                view.dtype(),
                view.shape()
            ));
            return;
        }
        loaded.push(
            view.data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect::<Vec<f32>>(),
        );
    });
    if !problems.is_empty() {
        return Err(weights(problems.join("; ")));
    }
    // `visit_mut` walks the parameters in `visit`'s order, which the weight files' format depends on.
    let mut loaded = loaded.into_iter();
    model.visit_mut("", &mut |_, p| match (p, loaded.next()) {
        (ParamMut::Vector(t), Some(values)) => t.copy_from(&values),
        (ParamMut::Matrix(t), Some(values)) => t.copy_from(&values),
        (_, None) => {}
    });
    Ok(())
}

/// Refuses a header whose tensors end past the end of the file. safetensors 0.8 compares the last tensor's
/// end plus the header's length with the file's length unchecked, which overflows (a panic where overflow
/// checks are on, as in debug and test builds) for offsets near `usize::MAX`. Everything else wrong with
/// the file is left to safetensors to report.
fn check_data_ends(bytes: &[u8]) -> Result<(), String> {
    let Some((len, rest)) = bytes.split_first_chunk::<8>() else {
        return Ok(());
    };
    let Some(header) = usize::try_from(u64::from_le_bytes(*len))
        .ok()
        .and_then(|len| rest.get(..len))
    else {
        return Ok(());
    };
    let data = rest.len() - header.len();
    let Ok(metadata) = serde_json::from_slice::<safetensors::tensor::Metadata>(header) else {
        return Ok(());
    };
    match metadata
        .tensors()
        .into_iter()
        .max_by_key(|(_, info)| info.data_offsets.1)
        .filter(|(_, info)| info.data_offsets.1 > data)
    {
        Some((name, info)) => Err(format!(
            "expected a safetensors file: tensor `{name}` ends at byte {} of {data} data bytes",
            info.data_offsets.1
        )),
        None => Ok(()),
    }
}

/// Loads the parameters of `model` from the safetensors file at `path`.
pub fn load_safetensors<D: Device<f32>>(
    model: &mut impl Parameters<D>,
    path: &Path,
) -> Result<(), ModelError> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::Weights {
        what: path.display().to_string(),
        message: e.to_string(),
    })?;
    from_safetensors(model, &bytes, &path.display().to_string())
}
