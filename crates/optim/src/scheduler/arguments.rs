//! What several schedulers' arguments share: [`PerGroup`] (PyTorch's "float or list", one value
//! per parameter group), `choice`, which reads one of a fixed set of strings (`mode`,
//! `anneal_strategy`, ...) with an error that lists the allowed ones, and `Call`, which writes
//! a class's arguments as Python writes the call (`StepLR(step_size=4, gamma=0.96)`).

use std::fmt;

use serde::de::{self, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// A value given once for every parameter group, or once per group (PyTorch's "float or list").
#[derive(Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PerGroup<T> {
    /// The same value for every group.
    All(T),
    /// One value per group, in group order.
    Each(Vec<T>),
}

impl<T: Clone> PerGroup<T> {
    /// Expand to one value per group; `None` if a list has the wrong length.
    pub fn expand(&self, groups: usize) -> Option<Vec<T>> {
        match self {
            PerGroup::All(v) => Some(vec![v.clone(); groups]),
            PerGroup::Each(list) if list.len() == groups => Some(list.clone()),
            PerGroup::Each(_) => None,
        }
    }
}

/// `0.1`, or `[0.1, 0.05]` with one value per group.
impl<T: fmt::Debug> fmt::Debug for PerGroup<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PerGroup::All(v) => v.fmt(f),
            PerGroup::Each(list) => f.debug_list().entries(list).finish(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for PerGroup<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PerGroupVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for PerGroupVisitor<T> {
            type Value = PerGroup<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value, or a list with one value per parameter group")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Vec::<T>::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(PerGroup::Each)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(PerGroup::All)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                T::deserialize(v.into_deserializer()).map(PerGroup::All)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                T::deserialize(v.into_deserializer()).map(PerGroup::All)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                T::deserialize(v.into_deserializer()).map(PerGroup::All)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                T::deserialize(v.into_deserializer()).map(PerGroup::All)
            }
        }
        deserializer.deserialize_any(PerGroupVisitor(std::marker::PhantomData))
    }
}

/// The name a config gives `value` among `options` (the table `choice` reads), quoted as
/// Python quotes a string: `"triangular"`.
pub(crate) fn write_choice<T: PartialEq>(
    f: &mut fmt::Formatter<'_>,
    value: &T,
    options: &[(&str, T)],
) -> fmt::Result {
    let name = options
        .iter()
        .find(|(_, v)| v == value)
        .map_or("?", |(n, _)| n);
    write!(f, "{name:?}")
}

/// A class's arguments written as Python writes the call, keyword by keyword:
/// `StepLR(step_size=4, gamma=0.96)`. Values are written with `{:?}`, which for `f64` is
/// Python's `repr` (`0.1`, `1.0`, `1e-8`); an argument left at PyTorch's default can be left
/// out ([`Call::arg_unless_default`]), so that the line shows what the config chose.
pub(crate) struct Call<'a, 'b> {
    f: &'a mut fmt::Formatter<'b>,
    first: bool,
}

impl<'a, 'b> Call<'a, 'b> {
    /// Starts `name(`.
    pub(crate) fn new(f: &'a mut fmt::Formatter<'b>, name: &str) -> Result<Self, fmt::Error> {
        write!(f, "{name}(")?;
        Ok(Call { f, first: true })
    }

    /// `key=value`.
    pub(crate) fn arg(mut self, key: &str, value: &dyn fmt::Debug) -> Result<Self, fmt::Error> {
        if !self.first {
            self.f.write_str(", ")?;
        }
        self.first = false;
        write!(self.f, "{key}={value:?}")?;
        Ok(self)
    }

    /// `key=value`, unless `value` is PyTorch's default.
    pub(crate) fn arg_unless_default<T: fmt::Debug + PartialEq>(
        self,
        key: &str,
        value: &T,
        default: &T,
    ) -> Result<Self, fmt::Error> {
        if value == default {
            Ok(self)
        } else {
            self.arg(key, value)
        }
    }

    /// The closing `)`.
    pub(crate) fn end(self) -> fmt::Result {
        self.f.write_str(")")
    }
}

/// Deserialise one of a fixed set of strings; the error names the key and the allowed values.
pub(crate) fn choice<'de, D: Deserializer<'de>, T: Copy>(
    deserializer: D,
    key: &str,
    options: &[(&str, T)],
) -> Result<T, D::Error> {
    let given = String::deserialize(deserializer)?;
    options
        .iter()
        .find(|(name, _)| *name == given)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let allowed: Vec<String> = options
                .iter()
                .map(|(name, _)| format!("\"{name}\""))
                .collect();
            de::Error::custom(format!(
                "`{key}` = \"{given}\" is not allowed; use one of {}",
                allowed.join(", ")
            ))
        })
}
