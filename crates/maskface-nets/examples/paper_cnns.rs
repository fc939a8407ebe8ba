//! The paper's three networks: their parameter counts, what they return for
//! one face-sized input, and (given a reference weight file) that it loads.
//!
//! ```bash
//! cargo run --release -p maskface-nets --example paper_cnns
//! cargo run --release -p maskface-nets --example paper_cnns -- resnet50 resnet50-0676ba61.pth
//! ```

use std::error::Error;
use std::path::Path;

use burn::prelude::*;
use maskface_nets::inception_resnet_v1::{InceptionResnetV1Config, VGGFACE2_CLASSES};
use maskface_nets::resnet::ResNetConfig;
use maskface_nets::vgg::VggConfig;
use maskface_nets::{parameter_count, Backend};

fn main() -> Result<(), Box<dyn Error>> {
    let device = Backend::Flex.device()?;
    let irv1 = InceptionResnetV1Config::new()
        .with_num_classes(Some(50))
        .init(&device);
    let resnet = ResNetConfig::resnet50(50).init(&device);
    let vgg = VggConfig::vgg16(50).with_paper_surgery().init(&device);

    let face = |side| Tensor::zeros([1, 3, side, side], &device);
    for (name, params, out) in [
        (
            "InceptionResnetV1",
            parameter_count(&irv1),
            irv1.forward(face(160)),
        ),
        (
            "ResNet50",
            parameter_count(&resnet),
            resnet.forward(face(224)),
        ),
        (
            "VGG16 (paper's surgery)",
            parameter_count(&vgg),
            vgg.forward(face(224)),
        ),
    ] {
        println!(
            "{name}: {params} parameters, embedding {:?}, logits {:?}",
            out.embedding.dims(),
            out.logits.map(|l| l.dims())
        );
    }

    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [net, file] = args.as_slice() {
        let path = Path::new(file);
        match net.as_str() {
            "inception-resnet-v1" => InceptionResnetV1Config::new()
                .with_num_classes(Some(VGGFACE2_CLASSES))
                .init(&device)
                .load_pytorch(path)?,
            "resnet50" => ResNetConfig::resnet50(1000)
                .init(&device)
                .load_pytorch(path)?,
            "vgg16" => VggConfig::vgg16(1000).init(&device).load_pytorch(path)?,
            other => return Err(format!("unknown network {other}").into()),
        }
        println!("{file}: every tensor of {net} loaded");
    }
    Ok(())
}
