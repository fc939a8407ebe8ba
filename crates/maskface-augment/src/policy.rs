use image::RgbImage;
use maskface_core::{rng_for, Augmentation, Augmented};

use crate::RandomRotation;

/// A list of augmentations applied in order, `copies` times per image.
///
/// Copy `k` of the image at `key` draws from
/// [`maskface_core::rng_for`]`(seed, "{key}#{k}")`, so every copy is
/// reproducible on its own.
pub struct Policy {
    copies: usize,
    steps: Vec<Box<dyn Augmentation>>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Policy {
    /// A policy making `copies` copies with no step yet.
    pub fn new(copies: usize) -> Self {
        Policy {
            copies,
            steps: Vec::new(),
        }
    }

    /// The paper's policy: three copies, each rotated by an angle drawn from
    /// +-20 degrees, black corners.
    pub fn paper() -> Self {
        Policy::new(3).then(RandomRotation::new(20.0))
    }

    /// Appends a step.
    pub fn then(mut self, step: impl Augmentation + 'static) -> Self {
        self.steps.push(Box::new(step));
        self
    }

    /// Appends a boxed step.
    pub fn then_boxed(mut self, step: Box<dyn Augmentation>) -> Self {
        self.steps.push(step);
        self
    }

    /// Copies made per image.
    pub fn copies(&self) -> usize {
        self.copies
    }

    /// The policy with all parameters, e.g.
    /// `3 x [rotate(max_degrees=20, fill=constant[0,0,0], bilinear)]`.
    pub fn describe(&self) -> String {
        let steps: Vec<String> = self.steps.iter().map(|s| s.describe()).collect();
        format!("{} x [{}]", self.copies, steps.join(", "))
    }

    /// One copy: every step in order; the record lists each step's record
    /// joined with `+`.
    pub fn apply_copy(&self, image: &RgbImage, seed: u64, key: &str, copy: usize) -> Augmented {
        let mut rng = rng_for(seed, &format!("{key}#{copy}"));
        let mut current = Augmented {
            image: image.clone(),
            record: String::new(),
        };
        for step in &self.steps {
            let next = step.apply(&current.image, &mut rng);
            if !current.record.is_empty() {
                current.record.push('+');
            }
            current.record.push_str(&next.record);
            current.image = next.image;
        }
        current
    }

    /// All copies of one image, copy numbers `1..=copies`.
    pub fn apply(&self, image: &RgbImage, seed: u64, key: &str) -> Vec<Augmented> {
        (1..=self.copies)
            .map(|k| self.apply_copy(image, seed, key, k))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ColorJitter, HorizontalFlip};

    #[test]
    fn same_seed_same_bytes_other_seed_differs() {
        let img = RgbImage::from_fn(32, 32, |x, y| {
            image::Rgb([(x * 8) as u8, (y * 8) as u8, 99])
        });
        let p = Policy::paper()
            .then(ColorJitter::new(0.3, 0.3, 0.3))
            .then(HorizontalFlip { p: 0.5 });
        let a = p.apply(&img, 5, "k");
        let b = p.apply(&img, 5, "k");
        let c = p.apply(&img, 6, "k");
        assert_eq!(a, b);
        assert_ne!(a[0].image, c[0].image);
        assert_ne!(a[0].image, a[1].image, "copies must differ");
        assert_eq!(a[0].record.split('+').count(), 3);
        assert_eq!(
            p.describe(),
            "3 x [rotate(max_degrees=20, fill=constant[0,0,0], bilinear), \
             color_jitter(brightness=0.3, contrast=0.3, saturation=0.3), hflip(p=0.5)]"
        );
    }
}
