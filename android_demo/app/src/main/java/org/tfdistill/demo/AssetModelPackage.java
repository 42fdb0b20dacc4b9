package org.tfdistill.demo;

import android.content.res.AssetFileDescriptor;
import android.content.res.AssetManager;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import org.tfdistill.core.ModelPackage;

/** Reads the model package that tools/copy_model_package.py put into the app's assets. */
final class AssetModelPackage implements ModelPackage.Files {
  private final AssetManager assets;

  AssetModelPackage(AssetManager assets) {
    this.assets = assets;
  }

  @Override
  public InputStream open(String name) throws IOException {
    try {
      return assets.open(name);
    } catch (java.io.FileNotFoundException e) {
      throw new java.io.FileNotFoundException("Asset " + name + " is missing: copy a model package"
          + " with android_demo/tools/copy_model_package.py and rebuild the app.");
    }
  }

  /**
   * Memory-maps {@code model.tflite} from the APK. This needs the asset stored uncompressed
   * ({@code noCompress 'tflite'} in build.gradle); mapping avoids a heap copy of the model and
   * lets the kernel page weights in on demand.
   */
  MappedByteBuffer mapModel() throws IOException {
    try (AssetFileDescriptor fd = assets.openFd(ModelPackage.MODEL);
        FileInputStream in = new FileInputStream(fd.getFileDescriptor());
        FileChannel channel = in.getChannel()) {
      return channel.map(
          FileChannel.MapMode.READ_ONLY, fd.getStartOffset(), fd.getDeclaredLength());
    }
  }
}
