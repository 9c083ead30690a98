//! Converting between a contract version's generated types and the host's
//! own ([`crate::runtime::contract`]), field by field. A bindings module lists
//! which of its records and variants correspond to which host type
//! ([`adapt_records!`], [`adapt_variants!`]); lists, options and results of
//! them convert through the impls below.

/// `self` as the corresponding type of the other side.
pub trait Adapt<T> {
    fn adapt(self) -> T;
}

macro_rules! unchanged {
    ($($ty:ty),*) => {
        $(impl Adapt<$ty> for $ty {
            fn adapt(self) -> $ty {
                self
            }
        })*
    };
}

unchanged!(String, bool, u8, u16, u32, u64, i64, f64);

impl<T: Adapt<U>, U> Adapt<Vec<U>> for Vec<T> {
    fn adapt(self) -> Vec<U> {
        self.into_iter().map(Adapt::adapt).collect()
    }
}

impl<T: Adapt<U>, U> Adapt<Option<U>> for Option<T> {
    fn adapt(self) -> Option<U> {
        self.map(Adapt::adapt)
    }
}

impl<T: Adapt<U>, U, E: Adapt<F>, F> Adapt<Result<U, F>> for Result<T, E> {
    fn adapt(self) -> Result<U, F> {
        self.map(Adapt::adapt).map_err(Adapt::adapt)
    }
}

/// `FROM => TO { field, … }`: records with the same fields, each converted.
macro_rules! adapt_records {
    ($($from:ty => $to:ty { $($field:ident),* $(,)? })*) => {$(
        impl $crate::runtime::bindings::adapt::Adapt<$to> for $from {
            fn adapt(self) -> $to {
                type Target = $to;
                Target {
                    $($field: $crate::runtime::bindings::adapt::Adapt::adapt(self.$field)),*
                }
            }
        }
    )*};
}

/// `FROM => TO { Case, Case(value), … }`: variants and enums with the same
/// cases, each payload converted.
macro_rules! adapt_variants {
    ($($from:ty => $to:ty { $($case:ident $(($value:ident))?),* $(,)? })*) => {$(
        impl $crate::runtime::bindings::adapt::Adapt<$to> for $from {
            fn adapt(self) -> $to {
                type Source = $from;
                type Target = $to;
                match self {
                    $(Source::$case $(($value))? => Target::$case $((
                        $crate::runtime::bindings::adapt::Adapt::adapt($value)
                    ))?),*
                }
            }
        }
    )*};
}

pub(crate) use {adapt_records, adapt_variants};
